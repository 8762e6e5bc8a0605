using System.Collections.Concurrent;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Counts of inline completion requests since the sidecar started: how many got a suggestion, and for the rest,
/// why not (<see cref="EmptyReason"/>), and the tokens they sent to an endpoint. Served as the noir/completionStats
/// request; counts only, never code.
/// </summary>
public sealed class CompletionStats
{
    readonly ConcurrentDictionary<string, long> _empty = new();
    long _requests, _suggestions, _cutMidLine, _tokensSent;

    public void Suggested() { Interlocked.Increment(ref _requests); Interlocked.Increment(ref _suggestions); }

    /// <summary>A suggestion (also counted by <see cref="Suggested"/>) that the deadline cut before its line ended.</summary>
    public void CutMidLine() => Interlocked.Increment(ref _cutMidLine);

    /// <summary>Tokens a request sent to the endpoint (prompt and decoded positions, rejected drafts included).</summary>
    public void Sent(long tokens) => Interlocked.Add(ref _tokensSent, tokens);

    public void Empty(string reason)
    {
        Interlocked.Increment(ref _requests);
        _empty.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    public CompletionStatsSnapshot Snapshot() => new(Interlocked.Read(ref _requests), Interlocked.Read(ref _suggestions),
        Interlocked.Read(ref _cutMidLine), new SortedDictionary<string, long>(_empty, StringComparer.Ordinal), Interlocked.Read(ref _tokensSent));
}

/// <param name="CutMidLine">suggestions the deadline cut before their line ended (the rest end where a line, a block
/// or the model does)</param>
/// <param name="Empty">empty answers per reason</param>
/// <param name="TokensSent">tokens the requests sent to an endpoint: what they cost the exposure budget</param>
public sealed record CompletionStatsSnapshot(long Requests, long Suggestions, long CutMidLine, IReadOnlyDictionary<string, long> Empty, long TokensSent);
