// Go's %e, %f and %g with a precision: exact decimal expansion of the double, rounded half to even
// (JS toFixed rounds 1.25 to "1.3", Go prints "1.2").

interface Decimal {
  digits: string; // no leading zeros ("" for zero)
  point: number; // value = 0.digits × 10^point
}

/** The exact decimal value of a finite non-negative double. */
function exact(x: number): Decimal {
  if (x === 0) return { digits: '', point: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e = biased - 1075;
  if (biased === 0) e = -1074;
  else mant |= 1n << 52n;
  let digits: string;
  let point: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    point = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    point = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed, point };
}

/** Keeps n digits of d, rounding half to even. */
function round(d: Decimal, n: number): Decimal {
  if (n < 0) return { digits: '', point: d.point };
  if (d.digits.length <= n) return d;
  const rest = d.digits.slice(n);
  let kept = d.digits.slice(0, n);
  const up = rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || (n > 0 && Number(kept[n - 1]) % 2 === 1)));
  if (!up) return { digits: kept.replace(/0+$/, ''), point: d.point };
  // Carry: 0.999 rounds to 1.00, one more integer digit.
  let i = n - 1;
  const arr = kept.split('');
  while (i >= 0 && arr[i] === '9') arr[i--] = '0';
  if (i < 0) return { digits: '1', point: d.point + 1 };
  arr[i] = String(Number(arr[i]) + 1);
  kept = arr.join('');
  return { digits: kept.replace(/0+$/, ''), point: d.point };
}

function fixedOf(d: Decimal, prec: number): string {
  const r = round(d, d.point + prec);
  const all = r.digits.padEnd(r.point + prec, '0');
  const intLen = r.point;
  const intPart = intLen > 0 ? all.slice(0, intLen) : '0';
  const frac = intLen >= 0 ? all.slice(intLen) : '0'.repeat(-intLen) + all;
  return prec > 0 ? `${intPart}.${frac.slice(0, prec).padEnd(prec, '0')}` : intPart;
}

function expOf(d: Decimal, prec: number): string {
  if (!d.digits) return `${prec > 0 ? `0.${'0'.repeat(prec)}` : '0'}e+00`;
  const r = round(d, prec + 1);
  const digits = r.digits.padEnd(prec + 1, '0');
  const exp = r.point - 1;
  const mant = prec > 0 ? `${digits[0]}.${digits.slice(1)}` : digits[0];
  return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** %f, %e or %g of |x| with a precision (Go's strconv.FormatFloat). */
export function formatPrec(x: number, verb: 'e' | 'f' | 'g', prec: number, sharp = false): string {
  const d = exact(x);
  if (verb === 'f') return fixedOf(d, prec);
  if (verb === 'e') return expOf(d, prec);
  const p = prec === 0 ? 1 : prec;
  const r = round(d, p);
  const exp = r.digits ? r.point - 1 : 0;
  let s = exp < -4 || exp >= p ? expOf(d, p - 1) : fixedOf(d, Math.max(0, p - 1 - exp));
  if (!sharp) s = s.replace(/\.(\d*?)0+(e|$)/, (_m, keep: string, tail: string) => (keep ? `.${keep}` : '') + tail);
  return s;
}

/** %x of a float: Go's hexadecimal mantissa and binary exponent ("0x1.8p+00"). */
export function hexFloat(x: number, upper = false): string {
  let s: string;
  if (x === 0) s = '0x0p+00';
  else {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const bits = view.getBigUint64(0);
    let exp = Number((bits >> 52n) & 0x7ffn);
    let mant = bits & ((1n << 52n) - 1n);
    if (exp === 0) {
      // Subnormal: shift the mantissa up to a leading 1, as Go normalizes it.
      exp = 1;
      while (!(mant & (1n << 52n))) {
        mant <<= 1n;
        exp--;
      }
      mant &= (1n << 52n) - 1n;
    }
    const e = exp - 1023;
    const frac = mant.toString(16).padStart(13, '0').replace(/0+$/, '');
    s = `0x1${frac ? `.${frac}` : ''}p${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return upper ? s.toUpperCase() : s;
}
