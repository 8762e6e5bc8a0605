namespace NoirCode.Endpoint;

/// <summary>How an endpoint runs: what it serves, where, for whom, and within which limits.</summary>
public sealed record EndpointOptions
{
    /// <summary>A cloud shard folder (from noir split), or a whole model whose middle it serves.</summary>
    public required string ShardFolder { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 7450;
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>File of "API_KEY TENANT" lines; none = a single tenant "local" with no key (loopback only).</summary>
    public string? AuthFile { get; init; }
    /// <summary>An environment variable holding "API_KEY TENANT" lines instead of a file (--auth-env): how a parent
    /// process (the sidecar's embedded endpoint) hands over a key without writing it anywhere.</summary>
    public string? AuthEnvironmentVariable { get; init; }
    public bool HasAuth => AuthFile != null || AuthEnvironmentVariable != null;
    /// <summary>An owner-only file holding the token that /metrics requires (Bearer); none = /metrics only on a
    /// loopback endpoint without API keys (<see cref="MetricsAccess"/>).</summary>
    public string? MetricsTokenFile { get; init; }
    /// <summary>Where tenants' adapters are kept; none = in memory only.</summary>
    public string? StateFolder { get; init; }
    public Core.Model.SplitSpec? Split { get; init; }

    public int MaxSessionsPerTenant { get; init; } = 64;
    public long KvBudgetBytes { get; init; } = 2L << 30;
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Requests (forward, truncate, train steps) per second per tenant, with bursts of twice that.</summary>
    public double RequestsPerSecondPerTenant { get; init; } = 2000;
    public int MaxMessageBytes { get; init; } = 32 << 20;
    public int MaxDecodeBatch { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public int LoraRank { get; init; } = 8;
    /// <summary>Stop when this process is gone (the sidecar that started an embedded endpoint).</summary>
    public int? ExitWithParent { get; init; }
}
