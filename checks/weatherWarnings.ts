/**
 * The warnings the circular's severe weather arrangements name, as the CLI's
 * --weather choices. Apart from checks/weather.ts, which decides what they
 * mean, so that building the command line loads no time-zone library.
 */
export const WEATHER_WARNINGS = ["signal8", "black-rainstorm", "extreme"] as const;
export type WeatherWarning = (typeof WEATHER_WARNINGS)[number];
