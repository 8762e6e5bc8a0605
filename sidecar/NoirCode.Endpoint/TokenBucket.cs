namespace NoirCode.Endpoint;

/// <summary>A rate limit: a bucket of <paramref name="capacity"/> units, starting full, refilled continuously.</summary>
public sealed class TokenBucket(double ratePerSecond, double capacity)
{
    readonly double _capacity = Math.Max(1, capacity);
    double _units = Math.Max(1, capacity);
    long _last = Environment.TickCount64;

    public double Capacity => _capacity;

    /// <summary>Takes <paramref name="units"/> if the bucket holds them; a refusal takes nothing.</summary>
    public bool TryTake(double units = 1)
    {
        lock (this)
        {
            long now = Environment.TickCount64;
            _units = Math.Min(_capacity, _units + (now - _last) / 1000.0 * ratePerSecond);
            _last = now;
            if (_units < units) return false;
            _units -= units;
            return true;
        }
    }
}
