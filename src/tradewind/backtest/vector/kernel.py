"""The compiled simulation loop of the vectorized engine: one column = one independent backtest.

Each column is walked bar by bar in numba with exactly the simulated venue's rules (see
``tradewind.sim.venue``), so the event-driven engine running the same signals produces the same
fills; ``tests/backtest/test_vector_parity.py`` proves it. Per bar, in the venue's order:

1. orders from the previous bar's signals fill at this open (``fill_at_close``: see step 4);
   otherwise the position's stop-loss / take-profit / trailing stop (one OCO group, working from
   the bar after the entry) are matched along open → nearer extreme → farther extreme → close;
   a gap fills at the open; when a stop and the target both trade in the bar and neither at the
   open, the stop fills;
2. a short (margin account, leverage 1) is liquidated when equity at the bar's high falls below
   the maintenance margin (half the notional), at the price where they meet;
3. the bar's signals are read: an exit (or an opposite entry) closes the position, an entry from
   flat opens one with ``size × equity`` (at this close) of quote currency, fees included,
   bounded by the cash available at the fill (an opposite entry reverses on the same fill bar);
4. with ``fill_at_close`` those orders fill at this bar's close instead of the next open;
5. equity is marked at the close and folded into the running metrics.

Nothing per bar is allocated: metrics are accumulated on the fly (sums of returns and their
squares, downside sum of squares, running peak and underwater spans, trade statistics), and
the equity curve and trade list are written only for the columns that ask for them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# rows of the per-column accumulator matrix (finished into metrics in Python)
A_FINAL = 0
A_FIRST = 1
A_NRET = 2
A_MEAN = 3
A_M2 = 4
A_DOWN = 5
A_MAXDD = 6
A_UNDERWATER = 7
A_TRADES = 8
A_WINS = 9
A_GROSS_WIN = 10
A_GROSS_LOSS = 11
A_PNL = 12
A_FEES = 13
A_EXPOSED = 14
A_OPEN = 15
N_ACC = 16

# exit reasons in trade records
EXIT_SIGNAL = 0
EXIT_STOP = 1
EXIT_TARGET = 2
EXIT_TRAIL = 3
EXIT_LIQUIDATION = 4
EXIT_REVERSE = 5

# trade record columns
T_ENTRY_IDX = 0
T_EXIT_IDX = 1
T_SIDE = 2
T_REASON = 3
N_TI = 4
T_QTY = 0
T_ENTRY_PX = 1
T_EXIT_PX = 2
T_ENTRY_FEE = 3
T_EXIT_FEE = 4
T_PNL = 5
T_RET = 6
N_TF = 7

_NONE = -1.0

# slots of the per-column trade statistics
S_TRADES = 0
S_WINS = 1
S_GWIN = 2
S_GLOSS = 3
S_PNL = 4
S_FEES = 5
N_ST = 6


@njit(cache=True, inline="always", error_model="numpy")
def _slip(price: float, sign: float, bps: float) -> float:
    """FixedBps: buys pay ``bps`` more, sells get ``bps`` less (taker fills only)."""
    if bps == 0.0:
        return price
    return price * (1.0 + sign * bps * 1e-4)


@njit(cache=True, inline="always", error_model="numpy")
def _touch(
    p0: float, p1: float, p2: float, p3: float, level: float, down: bool
) -> tuple[float, float]:
    """First point of the path where price <= level (down) or >= level (up): (pos, price);
    pos < 0 when it never gets there. A path already through the level fills at the open."""
    if (p0 <= level) if down else (p0 >= level):
        return 0.0, p0
    for k in range(3):
        a = p0 if k == 0 else (p1 if k == 1 else p2)
        b = p1 if k == 0 else (p2 if k == 1 else p3)
        if (b <= level < a) if down else (a < level <= b):
            seg = b - a
            f = (level - a) / seg if seg != 0.0 else 0.0
            return k + max(f, 0.0), level
    return _NONE, 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _trail_walk(
    p0: float, p1: float, p2: float, p3: float, stop: float, off: float, long: bool
) -> tuple[float, float]:
    """A trailing stop walking the path: ratchets on favourable segments, fills where an adverse
    segment crosses it (or at the open when the open is through it). (pos, price) or pos < 0."""
    if (p0 <= stop) if long else (p0 >= stop):
        return 0.0, p0
    for k in range(3):
        a = p0 if k == 0 else (p1 if k == 1 else p2)
        b = p1 if k == 0 else (p2 if k == 1 else p3)
        if long:
            if b > a:
                stop = max(stop, b * (1.0 - off))
            elif b <= stop < a:
                return k + (stop - a) / (b - a), stop
        elif b < a:
            stop = min(stop, b * (1.0 + off))
        elif a < stop <= b:
            return k + (stop - a) / (b - a), stop
    return _NONE, 0.0


@njit(cache=True, error_model="numpy")
def simulate_column(
    ts: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    le: np.ndarray,
    lx: np.ndarray,
    se: np.ndarray,
    sx: np.ndarray,
    size: np.ndarray,
    cash0: float,
    fee: float,
    bps: float,
    sl: float,
    tp: float,
    trail: float,
    fill_at_close: bool,
    margin: bool,
    liq_fee: float,
    acc: np.ndarray,
    equity_out: np.ndarray,
    record_equity: bool,
    t_int: np.ndarray,
    t_flt: np.ndarray,
    record_trades: bool,
    samples: np.ndarray,
    every: int,
) -> int:
    """Simulate one column; returns the number of closed trades written to ``t_int``/``t_flt``.

    Arrays are per bar (signals are booleans, ``size`` a fraction of equity); ``sl``/``tp``/
    ``trail`` are fractions of the entry price (NaN = none). With ``every > 0`` the equity at
    every ``every``-th bar (and at the last bar) is written to ``samples`` (period returns for
    the overfitting statistics, without keeping the curve).
    """
    n = len(c)
    cash = cash0
    qty = 0.0
    # the open position
    e_idx = -1
    e_px = 0.0
    e_fee = 0.0
    sl_lvl = math.nan
    tp_lvl = math.nan
    tr_lvl = math.nan
    stops_from = n  # first bar the stops work on
    # orders waiting for the next open: exit (bool), entry direction (0 none) and its budget
    p_exit = False
    p_reason = EXIT_SIGNAL
    p_dir = 0
    p_budget = 0.0
    # metrics
    prev_eq = cash0
    peak = cash0
    trough = cash0
    peak_i = 0
    nret = 0
    s1 = 0.0  # sum and sum of squares of returns (per-bar returns are small, so no
    s2 = 0.0  # cancellation worth a compensated form; checked against numpy in the tests)
    down = 0.0
    maxdd = 0.0
    longest = 0
    st = np.zeros(N_ST)  # trade statistics and fees, updated by _book_exit / _book_entry
    exposed = 0
    has_sl = not math.isnan(sl)
    has_tp = not math.isnan(tp)
    has_tr = not math.isnan(trail)
    any_stop = has_sl or has_tp or has_tr
    at_peak_prev = True
    countdown = every
    s_k = 0

    for i in range(n):
        oi = o[i]
        ci = c[i]
        # ---- 1. fills at this open (orders from the previous bar's signals) ----------------
        x_px = 0.0
        x_reason = -1
        if p_exit or p_dir != 0:
            if p_exit and qty != 0.0:
                x_px = _slip(oi, 1.0 if qty < 0 else -1.0, bps)
                x_reason = p_reason
            p_exit = False
        elif qty != 0.0 and any_stop and i >= stops_from:
            hi = h[i]
            lw = lo[i]
            if hi - oi < oi - lw:
                p1, p2 = hi, lw
            else:
                p1, p2 = lw, hi
            long = qty > 0
            best_px = 0.0
            best_kind = -1
            stop_pos = _NONE
            stop_px = 0.0
            stop_kind = -1
            n_c = 0
            tp_pos = _NONE
            tp_px = 0.0
            if has_sl:
                pos, px = _touch(oi, p1, p2, ci, sl_lvl, long)
                if pos >= 0.0:
                    n_c += 1
                    stop_pos, stop_px, stop_kind = pos, px, EXIT_STOP
            if has_tp:
                pos, px = _touch(oi, p1, p2, ci, tp_lvl, not long)
                if pos >= 0.0:
                    n_c += 1
                    tp_pos, tp_px = pos, px
            if has_tr:
                pos, px = _trail_walk(oi, p1, p2, ci, tr_lvl, trail, long)
                if pos >= 0.0:
                    n_c += 1
                    if stop_kind < 0 or pos < stop_pos:
                        stop_pos, stop_px, stop_kind = pos, px, EXIT_TRAIL
            if n_c > 0:
                if stop_kind >= 0 and (tp_pos < 0.0 or (n_c >= 2 and min(stop_pos, tp_pos) > 0.0)):
                    best_px, best_kind = stop_px, stop_kind
                elif stop_kind < 0 or tp_pos < stop_pos:
                    best_px, best_kind = tp_px, EXIT_TARGET
                else:
                    best_px, best_kind = stop_px, stop_kind
                if best_kind == EXIT_TARGET:
                    x_px = best_px  # a limit: no slippage
                else:
                    x_px = _slip(best_px, 1.0 if qty < 0 else -1.0, bps)
                x_reason = best_kind
            elif has_tr:  # the bar passed: the stop follows the bar's favourable extreme
                if long:
                    tr_lvl = max(tr_lvl, max(oi, hi, lw, ci) * (1.0 - trail))
                else:
                    tr_lvl = min(tr_lvl, min(oi, hi, lw, ci) * (1.0 + trail))
        if x_reason >= 0:
            xf = abs(qty) * x_px * fee
            cash = _book_exit(st, t_int, t_flt, record_trades, cash, e_idx, i, qty, e_px, e_fee,
                              x_px, xf, x_reason)  # fmt: skip
            qty = 0.0
        if p_dir != 0:
            px = _slip(oi, float(p_dir), bps)
            cash, q, ef = _book_entry(st, cash, p_budget, px, fee, p_dir)
            if q != 0.0:
                qty = q
                e_idx, e_px, e_fee = i, px, ef
                sl_lvl, tp_lvl, tr_lvl = _set_stops(px, p_dir > 0, sl, tp, trail)
                stops_from = i + 1
            p_dir = 0
        # ---- 2. liquidation of a short -----------------------------------------------------
        if margin and qty < 0.0:
            hi = h[i]
            base_equity = (cash + qty * ci) - qty * ci
            eq_adv = base_equity + qty * hi
            maint_adv = abs(qty) * hi * 0.5
            if eq_adv < maint_adv:
                denom = qty - abs(qty) * 0.5
                p_liq = (0.0 - base_equity - 0.0) / denom if denom != 0.0 else hi
                p_liq = min(max(p_liq, lo[i]), hi)
                p_liq = max(oi, p_liq)  # gapped through the liquidation price: the open
                xq = abs(qty)
                xf = xq * p_liq * fee + xq * p_liq * liq_fee
                cash = _book_exit(st, t_int, t_flt, record_trades, cash, e_idx, i, qty, e_px,
                                  e_fee, p_liq, xf, EXIT_LIQUIDATION)  # fmt: skip
                qty = 0.0
        # ---- 3. this bar's signals ----------------------------------------------------------
        if i < n - 1 or fill_at_close:
            want = 0
            exit_now = False
            reason = EXIT_SIGNAL
            if qty > 0.0:
                if se[i]:
                    exit_now, want, reason = True, -1, EXIT_REVERSE
                elif lx[i]:
                    exit_now = True
            elif qty < 0.0:
                if le[i]:
                    exit_now, want, reason = True, 1, EXIT_REVERSE
                elif sx[i]:
                    exit_now = True
            elif le[i] and not se[i]:
                want = 1
            elif se[i] and not le[i]:
                want = -1
            budget = 0.0
            if want != 0:
                budget = size[i] * (cash + qty * ci)
                if not budget > 0.0:
                    want = 0
            if fill_at_close:
                # ---- 4. ... filled at this close ------------------------------------------
                if exit_now:
                    x_px = _slip(ci, 1.0 if qty < 0 else -1.0, bps)
                    xf = abs(qty) * x_px * fee
                    cash = _book_exit(st, t_int, t_flt, record_trades, cash, e_idx, i, qty,
                                      e_px, e_fee, x_px, xf, reason)  # fmt: skip
                    qty = 0.0
                if want != 0:
                    px = _slip(ci, float(want), bps)
                    cash, q, ef = _book_entry(st, cash, budget, px, fee, want)
                    if q != 0.0:
                        qty = q
                        e_idx, e_px, e_fee = i, px, ef
                        sl_lvl, tp_lvl, tr_lvl = _set_stops(px, want > 0, sl, tp, trail)
                        stops_from = i + 1
            else:
                p_exit = exit_now
                p_reason = reason
                p_dir = want
                p_budget = budget
        # ---- 5. mark to market and fold into the metrics -------------------------------------
        eq = cash + qty * ci
        if record_equity:
            equity_out[i] = eq
        if every > 0:
            countdown -= 1
            if countdown == 0 or i == n - 1:
                samples[s_k] = eq
                s_k += 1
                countdown = every
        if qty != 0.0:
            exposed += 1
        if i == 0:
            acc[A_FIRST] = eq
            peak = eq
            trough = eq
            peak_i = 0
            at_peak_prev = True
        else:
            if eq == prev_eq and prev_eq != 0.0:
                nret += 1  # flat bar: a zero return, no division on the common path
            elif prev_eq != 0.0:
                r = eq / prev_eq - 1.0
                if math.isfinite(r):
                    nret += 1
                    s1 += r
                    s2 += r * r
                    neg = min(r, 0.0)  # branch-free: the sign of r is a coin flip in a position
                    down += neg * neg
            at_peak = eq >= peak
            if not (at_peak and at_peak_prev):
                span = i - peak_i
                longest = max(longest, span)
            if at_peak:
                peak = eq
                peak_i = i
                trough = eq
            elif eq < trough:  # a new low under this peak: the only time the drawdown grows
                trough = eq
                maxdd = min(maxdd, eq / peak - 1.0)
            at_peak_prev = at_peak
        prev_eq = eq

    acc[A_FINAL] = prev_eq
    acc[A_NRET] = nret
    acc[A_MEAN] = s1 / nret if nret > 0 else 0.0
    acc[A_M2] = max(s2 - s1 * s1 / nret, 0.0) if nret > 0 else 0.0
    acc[A_DOWN] = down
    acc[A_MAXDD] = maxdd
    acc[A_UNDERWATER] = longest
    trades = int(st[S_TRADES])
    acc[A_TRADES] = trades
    acc[A_WINS] = st[S_WINS]
    acc[A_GROSS_WIN] = st[S_GWIN]
    acc[A_GROSS_LOSS] = st[S_GLOSS]
    acc[A_PNL] = st[S_PNL]
    acc[A_FEES] = st[S_FEES]
    acc[A_EXPOSED] = exposed
    acc[A_OPEN] = qty
    if record_trades and qty != 0.0:  # the open position, as a record with exit index -1
        _record(t_int, t_flt, trades, e_idx, -1, qty, e_px, c[n - 1], e_fee, 0.0, -1)
    return trades


@njit(cache=True, inline="always", error_model="numpy")
def _book_exit(
    st: np.ndarray,
    t_int: np.ndarray,
    t_flt: np.ndarray,
    record: bool,
    cash: float,
    e_idx: int,
    i: int,
    qty: float,
    e_px: float,
    e_fee: float,
    x_px: float,
    xf: float,
    reason: int,
) -> float:
    """Close the whole position at ``x_px`` paying ``xf``: cash, trade stats, the record.
    Returns the new cash (the venue's arithmetic: cash - signed qty × price - fee)."""
    cash = cash - (-qty) * x_px - xf
    st[S_FEES] += xf
    k = int(st[S_TRADES])
    if record:
        _record(t_int, t_flt, k, e_idx, i, qty, e_px, x_px, e_fee, xf, reason)
    pnl = _trade_pnl(abs(qty), e_px, x_px, e_fee, xf, 1.0 if qty > 0 else -1.0)
    st[S_TRADES] = k + 1
    st[S_PNL] += pnl
    if pnl > 0:
        st[S_WINS] += 1
        st[S_GWIN] += pnl
    else:
        st[S_GLOSS] -= pnl
    return cash


@njit(cache=True, inline="always", error_model="numpy")
def _book_entry(
    st: np.ndarray, cash: float, budget: float, px: float, fee: float, direction: int
) -> tuple[float, float, float]:
    """Open a position worth ``budget`` (at most the cash, fees included) at ``px``:
    (new cash, signed quantity or 0 when nothing is affordable, fee)."""
    q = min(budget, max(cash, 0.0)) / (px + px * fee)
    if not q > 0.0:
        return cash, 0.0, 0.0
    ef = q * px * fee
    signed = q * direction
    st[S_FEES] += ef
    return cash - signed * px - ef, signed, ef


@njit(cache=True, inline="always", error_model="numpy")
def _set_stops(
    px: float, long: bool, sl: float, tp: float, trail: float
) -> tuple[float, float, float]:
    """Stop-loss, take-profit and initial trailing levels from the entry fill price."""
    if long:
        return px * (1.0 - sl), px * (1.0 + tp), px * (1.0 - trail)
    return px * (1.0 + sl), px * (1.0 - tp), px * (1.0 + trail)


@njit(cache=True, inline="always", error_model="numpy")
def _trade_pnl(q: float, pe: float, px: float, fe: float, fx: float, sign: float) -> float:
    """A round trip's net PnL, with the exact arithmetic of ``backtest.trades``."""
    fees = (0.0 + fe * q / q) + fx * q / q
    return (q * px - q * pe) * sign - fees


@njit(cache=True, error_model="numpy")
def _record(
    t_int: np.ndarray,
    t_flt: np.ndarray,
    k: int,
    e_idx: int,
    x_idx: int,
    qty: float,
    pe: float,
    px: float,
    fe: float,
    fx: float,
    reason: int,
) -> None:
    q = abs(qty)
    sign = 1.0 if qty > 0 else -1.0
    t_int[k, T_ENTRY_IDX] = e_idx
    t_int[k, T_EXIT_IDX] = x_idx
    t_int[k, T_SIDE] = 1 if qty > 0 else -1
    t_int[k, T_REASON] = reason
    pnl = _trade_pnl(q, pe, px, fe, fx, sign)
    t_flt[k, T_QTY] = q
    t_flt[k, T_ENTRY_PX] = pe
    t_flt[k, T_EXIT_PX] = px
    t_flt[k, T_ENTRY_FEE] = fe
    t_flt[k, T_EXIT_FEE] = fx
    t_flt[k, T_PNL] = pnl
    t_flt[k, T_RET] = pnl / (q * pe)


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_columns(
    ts: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    le: np.ndarray,
    lx: np.ndarray,
    se: np.ndarray,
    sx: np.ndarray,
    size: np.ndarray,
    cash0: float,
    fee: np.ndarray,
    bps: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    trail: np.ndarray,
    fill_at_close: bool,
    margin: bool,
    liq_fee: float,
    acc: np.ndarray,
    samples: np.ndarray,
    every: int,
) -> None:
    """Many columns of one price series in parallel threads (metrics only): signals and
    ``size`` are ``(n, k)`` (Fortran order keeps each column contiguous), parameters ``(k,)``,
    ``acc`` ``(k, N_ACC)``, ``samples`` ``(k, n_samples)`` (``(k, 0)`` with ``every == 0``)."""
    k = le.shape[1]
    dummy_eq = np.empty(0)
    dummy_ti = np.empty((0, N_TI), np.int64)
    dummy_tf = np.empty((0, N_TF))
    for j in prange(k):
        simulate_column(
            ts, o, h, lo, c, le[:, j], lx[:, j], se[:, j], sx[:, j], size[:, j],
            cash0, fee[j], bps[j], sl[j], tp[j], trail[j], fill_at_close, margin, liq_fee,
            acc[j], dummy_eq, False, dummy_ti, dummy_tf, False, samples[j], every,
        )  # fmt: skip
