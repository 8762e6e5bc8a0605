namespace NoirCode.Endpoint;

/// <summary>One open Train stream: whose it is, the training memory its pending samples hold, when it last spoke.</summary>
public sealed class TrainingStream
{
    public required string Id { get; init; }
    public required string Tenant { get; init; }
    /// <summary>Cancelled when the stream has been idle too long, so it ends and frees its graphs.</summary>
    public CancellationTokenSource Expiry { get; } = new();
    public long LastActiveTicks { get; set; } = Environment.TickCount64;
    /// <summary>Estimated bytes of its pending autograd graphs; changed under the registry's lock.</summary>
    public long HeldBytes { get; internal set; }
}
