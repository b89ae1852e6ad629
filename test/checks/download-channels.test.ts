/**
 * How many SFTP channels a download asks for: one on loopback, on a LAN and
 * for small files, more as the round trip grows, never more than the cap.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channelsFor, DOWNLOAD_TUNING, readsPerChannel } from "../../checks/download";

const MiB = 1024 * 1024;

describe("channelsFor", () => {
  it("one channel on loopback, whatever the size", () => {
    expect(channelsFor(0.3, 1024 * MiB)).toBe(1);
    // A busy machine's scheduling hiccup of a few milliseconds is not a long line.
    expect(channelsFor(2 * DOWNLOAD_TUNING.roundTripPerChannelMs - 0.1, 1024 * MiB)).toBe(1);
  });

  it("one channel per 10 ms of round trip, up to the cap", () => {
    expect(channelsFor(19.9, 1024 * MiB)).toBe(1);
    expect(channelsFor(20, 1024 * MiB)).toBe(2);
    expect(channelsFor(35, 1024 * MiB)).toBe(3);
    expect(channelsFor(40, 1024 * MiB)).toBe(4);
    expect(channelsFor(79.9, 1024 * MiB)).toBe(7);
    expect(channelsFor(80, 1024 * MiB)).toBe(DOWNLOAD_TUNING.maxChannels);
    expect(channelsFor(400, 1024 * MiB)).toBe(DOWNLOAD_TUNING.maxChannels);
    expect(channelsFor(400, 1024 * MiB, { maxChannels: 3 })).toBe(3);
  });

  it("eight at most: below OpenSSH's default of 10 sessions per connection (MaxSessions)", () => {
    expect(DOWNLOAD_TUNING.maxChannels).toBe(8);
    expect(channelsFor(10_000, 1024 * MiB)).toBeLessThan(10);
  });

  it("no more channels than the file has 4 MiB for: a small report stays on one", () => {
    expect(channelsFor(100, 320 * 1024)).toBe(1);
    expect(channelsFor(100, 8 * MiB - 1)).toBe(1);
    expect(channelsFor(100, 8 * MiB)).toBe(2);
    expect(channelsFor(100, 32 * MiB)).toBe(8);
    expect(channelsFor(40, 32 * MiB)).toBe(4);
  });

  it("a fixed number overrides the round trip and the size", () => {
    expect(channelsFor(0, 0, { channels: 3 })).toBe(3);
    expect(channelsFor(500, 1024 * MiB, { channels: 1 })).toBe(1);
  });

  it("always between one and the cap, and never fewer for a longer round trip", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }), fc.nat(), (a, b, size) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        const n = channelsFor(short, size);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(DOWNLOAD_TUNING.maxChannels);
        expect(channelsFor(long, size)).toBeGreaterThanOrEqual(n);
      }),
    );
  });
});

describe("readsPerChannel", () => {
  const chunk = 255 * 1024;
  it("two windows' worth on up to three channels, fewer beyond, half a window's worth at least", () => {
    expect(readsPerChannel(chunk, 1)).toBe(16);
    expect(readsPerChannel(chunk, 3)).toBe(16);
    expect(readsPerChannel(chunk, 4)).toBe(12);
    expect(readsPerChannel(chunk, 8)).toBe(6);
    expect(readsPerChannel(chunk, 64)).toBe(4);
  });

  it("keeps the bytes in flight within the budget, and never below half a window per channel", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1024, max: 1024 * 1024 }), (channels, chunkSize) => {
        const reads = readsPerChannel(chunkSize, channels);
        const window = Math.max(1, Math.floor(DOWNLOAD_TUNING.channelWindowBytes / chunkSize));
        expect(reads).toBeGreaterThanOrEqual(Math.ceil(window / 2));
        expect(reads).toBeLessThanOrEqual(2 * window);
        if (reads > Math.ceil(window / 2)) expect(reads * chunkSize * channels).toBeLessThanOrEqual(DOWNLOAD_TUNING.maxBytesInFlight);
      }),
    );
  });
});
