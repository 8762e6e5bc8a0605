namespace NoirCode.Endpoint;

/// <summary>A per-tenant request rate limit: a bucket of 2× the rate, refilled continuously.</summary>
public sealed class TokenBucket(double ratePerSecond)
{
    readonly double _capacity = Math.Max(1, 2 * ratePerSecond);
    double _tokens = Math.Max(1, 2 * ratePerSecond);
    long _last = Environment.TickCount64;

    public bool TryTake()
    {
        lock (this)
        {
            long now = Environment.TickCount64;
            _tokens = Math.Min(_capacity, _tokens + (now - _last) / 1000.0 * ratePerSecond);
            _last = now;
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }
}
