// MediaPipe SSD anchors (SsdAnchorsCalculator with fixed_anchor_size), as BlazeFace uses them.
// Layers with the same stride share one grid; each grid cell holds `anchorsPerCell` anchors
// centred on the cell, all of size 1.0, so only the centres matter.

export interface AnchorGrid {
  stride: number;
  /** MediaPipe layers merged into this grid. */
  layers: number;
  cols: number;
  rows: number;
  anchorsPerCell: number;
  /** cols * rows * anchorsPerCell */
  count: number;
}

/** Merge consecutive equal strides into grids (e.g. [16,32,32,32] -> 16 and 32 with 1 and 3 layers). */
export function groupStrides(strides: readonly number[]): Array<{ stride: number; layers: number }> {
  const out: Array<{ stride: number; layers: number }> = [];
  for (const stride of strides) {
    const last = out[out.length - 1];
    if (last !== undefined && last.stride === stride) last.layers += 1;
    else out.push({ stride, layers: 1 });
  }
  return out;
}

/**
 * The grids of a model. `anchorsPerCell` is given per grid ([2, 6]) or per MediaPipe layer
 * ([2, 2, 2, 2]); returns undefined when its length fits neither.
 */
export function anchorGrids(width: number, height: number, strides: readonly number[], anchorsPerCell: readonly number[]): AnchorGrid[] | undefined {
  const groups = groupStrides(strides);
  let perGrid: number[];
  if (anchorsPerCell.length === groups.length) perGrid = [...anchorsPerCell];
  else if (anchorsPerCell.length === strides.length) {
    perGrid = [];
    let k = 0;
    for (const g of groups) {
      // The layers of consecutive groups partition the strides, so this slice is never short.
      perGrid.push(anchorsPerCell.slice(k, k + g.layers).reduce((a, b) => a + b, 0));
      k += g.layers;
    }
  } else return undefined;
  return groups.map((g, i) => {
    // MediaPipe sizes feature maps with ceil, so odd input sizes still get a border cell.
    const cols = Math.ceil(width / g.stride);
    const rows = Math.ceil(height / g.stride);
    const anchors = perGrid[i] ?? 0; // perGrid has one entry per group (checked or built above)
    return { stride: g.stride, layers: g.layers, cols, rows, anchorsPerCell: anchors, count: cols * rows * anchors };
  });
}

const cache = new Map<string, Float32Array>();

/** Anchor centres of one grid in input pixels, [x, y] per anchor, in the model's output order. */
export function anchorCentres(grid: AnchorGrid, width: number, height: number): Float32Array {
  const key = `${width}x${height}/${grid.stride}/${grid.anchorsPerCell}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const out = new Float32Array(grid.count * 2);
  let k = 0;
  for (let y = 0; y < grid.rows; y++) {
    for (let x = 0; x < grid.cols; x++) {
      const cx = ((x + 0.5) / grid.cols) * width;
      const cy = ((y + 0.5) / grid.rows) * height;
      for (let a = 0; a < grid.anchorsPerCell; a++) {
        out[k++] = cx;
        out[k++] = cy;
      }
    }
  }
  cache.set(key, out);
  return out;
}
