/** A frame number input of the Matting form, bounded by the video's last frame. */
export function FrameField(props: { label: string; testId: string; value: string; last: number; onInput: (v: string) => void }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        class="input mono"
        type="number"
        min={0}
        max={Math.max(0, props.last)}
        step={1}
        data-testid={props.testId}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}
