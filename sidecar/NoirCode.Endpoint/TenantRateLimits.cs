using System.Collections.Concurrent;

namespace NoirCode.Endpoint;

/// <summary>
/// Each tenant's two rate limits: requests per second (every message costs some work) and positions per second
/// (what a message costs the model: a 2,000-position prefill is 2,000 decode steps' worth, not one request).
/// </summary>
public sealed class TenantRateLimits(EndpointOptions options)
{
    readonly ConcurrentDictionary<string, (TokenBucket Requests, TokenBucket Positions)> _tenants = new();

    /// <summary>Checked as each message arrives.</summary>
    /// <returns>null when the request may go ahead, otherwise why not (for a ResourceExhausted status)</returns>
    public string? RequestRefusal(string tenant) =>
        For(tenant).Requests.TryTake() ? null : "request rate limit exceeded for this tenant; slow down";

    /// <summary>Checked once a message's hidden states are decoded (so the count is true), before the model runs.</summary>
    /// <returns>null when the positions may go ahead, otherwise why not (for a ResourceExhausted status)</returns>
    public string? PositionRefusal(string tenant, long positions)
    {
        var bucket = For(tenant).Positions;
        if (positions > bucket.Capacity)
            return $"a request of {positions} positions is more than this tenant's token rate limit allows at once ({bucket.Capacity:F0}); send fewer positions per request";
        if (!bucket.TryTake(positions))
            return $"token rate limit exceeded for this tenant ({options.TokensPerSecondPerTenant:F0} positions per second, bursts of {bucket.Capacity:F0}); slow down";
        return null;
    }

    (TokenBucket Requests, TokenBucket Positions) For(string tenant) => _tenants.GetOrAdd(tenant, _ => (
        new TokenBucket(options.RequestsPerSecondPerTenant, 2 * options.RequestsPerSecondPerTenant),
        new TokenBucket(options.TokensPerSecondPerTenant, options.TenantTokenBurst)));
}
