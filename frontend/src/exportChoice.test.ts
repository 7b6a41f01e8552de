import { describe, expect, it } from "vitest";
import { toJobExport } from "./exportChoice";

describe("toJobExport", () => {
  it("sends a colour the server takes: the typed one tidied, or the default when it is none", () => {
    // "Ready" was shown and the server then refused the job (422) over an unused colour field.
    expect(toJobExport({ formats: ["alpha_png"], background: "xyz" }).background).toBe("00ff00");
    expect(toJobExport({ formats: ["alpha_png"], background: "" }).background).toBe("00ff00");
    expect(toJobExport({ formats: ["composite_mp4"], background: "  #FF00ff " }).background).toBe("ff00ff");
  });
});
