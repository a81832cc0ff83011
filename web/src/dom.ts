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

export const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });
/** "2026-12-02 00:46:50" in local time (ISO-like, unambiguous in every locale). */
export const dateTime = (ms: number) => new Date(ms).toLocaleString('sv-SE', { hour12: false });

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
