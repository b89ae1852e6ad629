/** The geometry the SVG timelines share: a fixed-width canvas, labels on the left, the plot on the right. */

/** The viewBox width; the SVG scales to the page. */
export const W = 1000;
/** Room for the row labels (part and site, or endpoint). */
export const LABEL_W = 230;
export const PLOT_W = W - LABEL_W - 20;

/** One decimal is finer than a pixel and keeps the markup short. */
export function px(n: number): string {
  return n.toFixed(1);
}
