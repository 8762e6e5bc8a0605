using System.Collections.Concurrent;

namespace NoirCode.Sidecar.Completion;

/// <summary>
/// Counts of inline completion requests since the sidecar started: how many got a suggestion, and for the rest,
/// why not (<see cref="EmptyReason"/>). Served as the noir/completionStats request; counts only, never code.
/// </summary>
public sealed class CompletionStats
{
    readonly ConcurrentDictionary<string, long> _empty = new();
    long _requests, _suggestions;

    public void Suggested() { Interlocked.Increment(ref _requests); Interlocked.Increment(ref _suggestions); }

    public void Empty(string reason)
    {
        Interlocked.Increment(ref _requests);
        _empty.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    public CompletionStatsSnapshot Snapshot() => new(Interlocked.Read(ref _requests), Interlocked.Read(ref _suggestions),
        new SortedDictionary<string, long>(_empty, StringComparer.Ordinal));
}

/// <param name="Empty">empty answers per reason</param>
public sealed record CompletionStatsSnapshot(long Requests, long Suggestions, IReadOnlyDictionary<string, long> Empty);
