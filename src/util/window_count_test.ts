import { assertEquals } from "./assert.ts";
import { mostInWindow, mostPerWholeSecond, windowsOver } from "./window_count.ts";

Deno.test("mostInWindow: a sliding window finds what whole seconds split", () => {
  // 10 a second at 0.1 s, then a burst of 6 across the second's boundary at 1.95–2.05.
  const times = [
    ...Array.from({ length: 10 }, (_, i) => i * 0.1),
    1.95,
    1.97,
    1.99,
    2.01,
    2.03,
    2.05,
  ];
  assertEquals(mostPerWholeSecond(times), 10);
  assertEquals(mostInWindow(times, 1), 10);
  // [1.05, 2.05) holds 1.95–2.03: 5; the whole seconds 3 and 3.
  const burst = [0.5, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4];
  assertEquals(mostPerWholeSecond(burst), 5);
  assertEquals(mostInWindow(burst, 1), 10);
  assertEquals(mostInWindow([], 1), 0);
  assertEquals(mostPerWholeSecond([]), 0);
});

Deno.test("mostInWindow: 20 a second stay 20, one more within the second is 21", () => {
  const times = Array.from({ length: 60 }, (_, i) => i * 0.0501);
  assertEquals(mostInWindow(times, 1), 20);
  assertEquals(mostInWindow([...times, 0.999].sort((a, b) => a - b), 1), 21);
});

Deno.test("windowsOver: one entry per run of overlapping windows, the fullest", () => {
  const times = [0, 0.1, 0.2, 0.3, 5, 5.05, 5.1];
  assertEquals(windowsOver(times, { widthS: 1, limit: 2 }), [
    { startS: 0, count: 4 },
    { startS: 5, count: 3 },
  ]);
  assertEquals(windowsOver(times, { widthS: 1, limit: 4 }), []);
});
