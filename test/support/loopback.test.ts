import { describe, expect, it } from "vitest";
import { assertLoopbackHost, bracketIfIpv6, isLoopbackHost } from "./loopback";

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.0.151.141", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost"])(
    "accepts %s",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(["0.0.0.0", "10.0.0.1", "192.168.1.10", "128.0.0.1", "1.127.0.0", "::", "::ffff:10.0.0.1", "example.com", "localhost.", ""])(
    "refuses %s",
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe("assertLoopbackHost", () => {
  it("names the field and the host it refused", () => {
    expect(() => assertLoopbackHost("targetHost", "203.0.113.5")).toThrow("'targetHost' must be a loopback address");
    expect(() => assertLoopbackHost("targetHost", "203.0.113.5")).toThrow("got '203.0.113.5'");
  });

  it("lets loopback through", () => {
    expect(() => assertLoopbackHost("bindHost", "127.0.151.141")).not.toThrow();
  });
});

describe("bracketIfIpv6", () => {
  it("brackets IPv6 only", () => {
    expect(bracketIfIpv6("::1")).toBe("[::1]");
    expect(bracketIfIpv6("127.0.0.1")).toBe("127.0.0.1");
    expect(bracketIfIpv6("localhost")).toBe("localhost");
  });
});
