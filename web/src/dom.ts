/** Small DOM helpers: a typed lookup by id and an element factory (text only, never HTML strings). */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page lacks #${id}`);
  return element as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}

// One formatter each, made once: `toLocaleTimeString` builds a new one per call, which at 1,000 devices (a time in
// every list row, 4 times a second) was the page's largest cost (bench:web).
const TIME = new Intl.DateTimeFormat([], { hour: 'numeric', minute: 'numeric', second: 'numeric', hour12: false });
const DATE_TIME = new Intl.DateTimeFormat('sv-SE', {
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  hour12: false,
});
export const time = (ms: number) => TIME.format(ms);
/** "2026-12-02 00:46:50" in local time (ISO-like, unambiguous in every locale). */
export const dateTime = (ms: number) => DATE_TIME.format(ms);

/** Writes text or an attribute only when it differs: an unchanged write still costs a style recalculation. */
export function setText(node: HTMLElement, text: string) {
  if (node.textContent !== text) node.textContent = text;
}
export function setData(node: HTMLElement, name: string, value: string) {
  if (node.dataset[name] !== value) node.dataset[name] = value;
}

/** Reads JSON from the app; throws with the API's error message when the answer is not 2xx. */
export async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, init);
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? response.statusText;
    throw new HttpError(response.status, `${response.status}: ${message}`);
  }
  return body as T;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
