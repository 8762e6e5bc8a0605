namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Waits longer while the user types fast and less when they pause (after Tabby's adaptive debounce): the wait is
/// 1.5 × the recent average gap between requests, between 25 and 350 ms. An explicit request waits not at all.
/// </summary>
public sealed class AdaptiveDebounce
{
    double _averageGapMs = 200;
    long _last;

    public TimeSpan Next(bool explicitRequest)
    {
        long now = Environment.TickCount64;
        if (_last != 0) _averageGapMs = 0.8 * _averageGapMs + 0.2 * Math.Min(2000, now - _last);
        _last = now;
        return explicitRequest ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Clamp(1.5 * _averageGapMs, 25, 350));
    }
}
