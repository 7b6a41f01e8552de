// Downloads of archives (GBs, made while sent): the browser saves them to disk as a plain link
// would, never through this page's memory. A plain link alone leaves a refusal (a full disk, a
// job with no finished frames) to the browser, which shows a failed download or its own error
// page and never the server's reason: so the server is asked first, and only its headers read.
import { errorText, send } from "./api";
import { showError } from "./toasts";

/** Download `url` once the server says it sends it. Its first answer is read up to its headers,
 * then dropped (the server stops making that copy at its next frame); the browser then fetches
 * the file itself, as a link with `download` does. A refusal throws the server's ApiError. */
export async function startDownload(url: string): Promise<void> {
  const check = new AbortController();
  await send("GET", url, undefined, check.signal);
  check.abort();
  const link = document.createElement("a");
  link.href = url;
  link.download = "";
  link.hidden = true;
  // Its click is no click on the page (one outside a menu would close it); its download still goes.
  link.addEventListener("click", (e) => e.stopPropagation());
  document.body.append(link);
  link.click();
  link.remove();
}

/** A download link's click: its archive started by startDownload, its refusal a toast that says
 * why. A click with a modifier (a new tab, a window) or another button stays the browser's; a
 * second click while the first is being asked about starts nothing more. */
export function onDownloadClick(e: MouseEvent & { currentTarget: HTMLAnchorElement }): void {
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const link = e.currentTarget;
  if (link.getAttribute("aria-busy") === "true") return;
  link.setAttribute("aria-busy", "true");
  startDownload(link.href)
    .catch((err: unknown) => void showError(errorText(err), "Download failed"))
    .finally(() => link.removeAttribute("aria-busy"));
}
