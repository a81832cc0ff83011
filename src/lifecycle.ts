/**
 * The lifecycle contracts every long-lived part of the app implements. They depend on nothing, so any module can
 * implement them without importing the composition root (`app.ts`), which imports every module.
 */

/** Anything long-lived: started once, stopped once, in the order the application gives. */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A named readiness probe; resolves when the dependency works, throws an `AppError` otherwise. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}
