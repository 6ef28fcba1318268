import { describe, expect, it } from "vitest";
import { AppSettingError } from "../../src/config/app-settings.ts";
import { heapGrowthFlag } from "../../src/runner/heap.ts";

describe("HEAP_GROWING_PERCENT", () => {
  it("caps V8's heap growth at twice the live heap unless told otherwise", () => {
    expect(heapGrowthFlag({}, [])).toBe("--heap-growing-percent=100");
    expect(heapGrowthFlag({ HEAP_GROWING_PERCENT: "50" }, [])).toBe("--heap-growing-percent=50");
  });

  it("leaves the heap to V8 for 0, and to node's own command line when it sets the flag", () => {
    expect(heapGrowthFlag({ HEAP_GROWING_PERCENT: "0" }, [])).toBeUndefined();
    expect(heapGrowthFlag({}, ["--heap-growing-percent=300"])).toBeUndefined();
    expect(heapGrowthFlag({}, ["--heap_growing_percent", "300"])).toBeUndefined();
    expect(heapGrowthFlag({}, ["--heap-growing-percentage-typo=1"])).toBe("--heap-growing-percent=100");
  });

  it("names the setting and what it expected when the value is not a whole percentage", () => {
    for (const bad of ["-10", "1.5", "lots"]) {
      expect(() => heapGrowthFlag({ HEAP_GROWING_PERCENT: bad }, [])).toThrow(AppSettingError);
      expect(() => heapGrowthFlag({ HEAP_GROWING_PERCENT: bad }, [])).toThrow(
        /HEAP_GROWING_PERCENT: expected a whole number of percent .*got "/,
      );
    }
  });
});
