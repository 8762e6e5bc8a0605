namespace NoirCode.Endpoint;

/// <summary>How an endpoint runs: what it serves, where, for whom, and within which limits.</summary>
public sealed record EndpointOptions
{
    /// <summary>A cloud shard folder (from noir split), or a whole model whose middle it serves.</summary>
    public required string ShardFolder { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 7450;
    /// <summary>Listen on this Unix domain socket instead of TCP (--unix-socket): local like loopback, and faster;
    /// its folder must be owner-only (<see cref="UnixSocketFile"/>). Host and Port are then unused.</summary>
    public string? UnixSocketPath { get; init; }
    /// <summary>Only this machine can reach the endpoint: loopback, or a unix socket.</summary>
    public bool IsLocal => UnixSocketPath != null || Host == "localhost" || (System.Net.IPAddress.TryParse(Host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
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
    public Core.Split.SplitSpec? Split { get; init; }

    public int MaxSessionsPerTenant { get; init; } = 64;
    /// <summary>KV-cache memory for all sessions of all tenants, reserved when a session opens.</summary>
    public long KvBudgetBytes { get; init; } = 2L << 30;
    /// <summary>KV-cache memory one tenant's sessions may reserve together; none = half the budget when the API keys
    /// name several tenants (so no tenant can take it all), the whole budget for one tenant (set at start,
    /// <see cref="EndpointHost.StartAsync"/>).</summary>
    public long? KvBytesPerTenant { get; init; }
    public long TenantKvQuota => KvBytesPerTenant ?? KvBudgetBytes;
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Requests (forward, truncate, train steps) per second per tenant, with bursts of twice that.</summary>
    public double RequestsPerSecondPerTenant { get; init; } = 2000;
    /// <summary>Positions (hidden-state rows: prefill, decode, training forward and backward) per second per tenant.</summary>
    public double TokensPerSecondPerTenant { get; init; } = 50_000;
    /// <summary>The most positions a tenant may send at once after a quiet spell; none = two seconds' worth.
    /// A single message larger than this is refused (it could never pass).</summary>
    public double? TokenBurstPerTenant { get; init; }
    public double TenantTokenBurst => TokenBurstPerTenant ?? 2 * TokensPerSecondPerTenant;
    /// <summary>Memory of the autograd graphs a tenant's training streams hold while their samples await the
    /// backward pass (estimated per sample, <see cref="TrainingMemory"/>).</summary>
    public long TrainingBytesPerTenant { get; init; } = 1L << 30;
    /// <summary>Train streams one tenant may hold open at once (STuning uses one).</summary>
    public int MaxTrainingStreamsPerTenant { get; init; } = 4;
    /// <summary>A training stream that sends nothing for this long is ended and its pending graphs freed.</summary>
    public TimeSpan TrainingIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Prefills are run this many positions at a time, taking turns with other tenants' work, so a long
    /// prompt holds the model for one chunk at most before others' decode steps run.</summary>
    public int PrefillChunkTokens { get; init; } = 128;
    public int MaxMessageBytes { get; init; } = 32 << 20;
    public int MaxDecodeBatch { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public int LoraRank { get; init; } = 8;
    /// <summary>Stop when this process is gone (the sidecar that started an embedded endpoint).</summary>
    public int? ExitWithParent { get; init; }
}
