// ObjectList rendered for tests: its props as the editor gives them, each handler doing
// nothing unless the test gives its own.
import { render } from "@solidjs/testing-library";
import type { Accessor } from "solid-js";
import type { MatteObject } from "../api";
import { ObjectList, type ObjectListProps } from "../components/ObjectList";

/** Eleven objects, "Object 1" to "Object 11": more than the number keys reach. */
export const elevenObjects: MatteObject[] = Array.from({ length: 11 }, (_, i) => ({ id: i + 1, project_id: "p", name: `Object ${i + 1}`, color: "#ff5a5f" }));

export type ObjectListOverrides = Partial<Omit<ObjectListProps, "objects">> & {
  /** The list shown (an accessor: one the test changes); elevenObjects when not given. */
  objects?: MatteObject[] | Accessor<MatteObject[]>;
};

/** ObjectList with the first object selected and no points, `over` changing any of it. */
export function renderObjectList(over: ObjectListOverrides = {}) {
  const { objects = elevenObjects, ...rest } = over;
  const shown = typeof objects === "function" ? objects : () => objects;
  return render(() => (
    <ObjectList
      selectedId={1}
      pointCounts={new Map()}
      onSelect={() => {}}
      onAdd={() => {}}
      onRename={() => {}}
      onColor={() => {}}
      onDelete={() => {}}
      {...rest}
      objects={shown()}
    />
  ));
}
