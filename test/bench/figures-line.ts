/** The line test/bench/transitions.ts prints its figures on when the bench runs it apart (the game day changes process-wide settings). */
export const FIGURES_LINE = 'medic-bench-figures ';
