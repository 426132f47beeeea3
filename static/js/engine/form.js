export function compute(){throw new Error("todo")}
