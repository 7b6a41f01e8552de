// Small stroke icons (inline SVG: no icon font, no glyphs missing from system fonts).
const PATHS = {
  first: "M6 5v14 M18 5l-9 7 9 7z",
  last: "M18 5v14 M6 5l9 7-9 7z",
  back10: "M11 6l-6 6 6 6 M19 6l-6 6 6 6",
  forward10: "M13 6l6 6-6 6 M5 6l6 6-6 6",
  prev: "M15 6l-6 6 6 6",
  next: "M9 6l6 6-6 6",
  play: "M8 5l11 7-11 7z",
  pause: "M8 5v14 M16 5v14",
  trash: "M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13 M10 11v6 M14 11v6",
  edit: "M4 20h4l10-10-4-4L4 16z M13 7l4 4",
  undo: "M9 14L4 9l5-5 M4 9h10a6 6 0 010 12h-3",
  redo: "M15 14l5-5-5-5 M20 9H10a6 6 0 000 12h3",
  download: "M12 4v11 M7 10l5 5 5-5 M5 20h14",
  refresh: "M20 12a8 8 0 11-2.3-5.6 M20 4v5h-5",
  close: "M6 6l12 12 M18 6L6 18",
  plus: "M12 5v14 M5 12h14",
  upload: "M12 20V9 M7 14l5-5 5 5 M5 4h14",
  help: "M12 21a9 9 0 100-18 9 9 0 000 18z M9.5 9.5a2.5 2.5 0 115 .3c0 1.5-2.5 1.8-2.5 3.4 M12 16.8v.2",
  film: "M4 5h16v14H4z M8 5v14 M16 5v14 M4 9h4 M4 15h4 M16 9h4 M16 15h4",
  folder: "M3 6h6l2 2h10v11H3z",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon(props: { name: IconName; size?: number; title?: string }) {
  const filled = props.name === "play" || props.name === "first" || props.name === "last";
  return (
    <svg
      class="icon"
      width={props.size ?? 16}
      height={props.size ?? 16}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden={props.title ? undefined : "true"}
    >
      {props.title && <title>{props.title}</title>}
      <path d={PATHS[props.name]} fill={filled ? "currentColor" : "none"} />
    </svg>
  );
}
