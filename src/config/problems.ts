import { ConfigError } from '../errors.js';

/** Runs `check`; a ConfigError it throws joins `problems`, so one run can report every problem. */
export function collect(problems: ConfigError[], check: () => void): boolean {
  try {
    check();
    return true;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err);
    return false;
  }
}

/** One problem as it is; several as one ConfigError that lists every one, a line each. */
export function throwProblems(problems: readonly ConfigError[]): void {
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    throw new ConfigError(`${problems.length} problems:\n${problems.map(p => `  ${p.message}`).join('\n')}`);
  }
}
