using System.Diagnostics;

namespace NoirCode.Core.Util;

/// <summary>Reports progress of a long operation: a fraction done and an estimate of the time left.</summary>
public interface IProgressSink
{
    /// <param name="detail">changing figures to show beside the count (a loss, a rate); not part of the stage</param>
    void Report(string stage, long done, long total, string? detail = null);
    void Done(string stage);
}

/// <summary>Does nothing; for library callers and tests that do not show progress.</summary>
public sealed class NullProgress : IProgressSink
{
    public static readonly NullProgress Instance = new();
    public void Report(string stage, long done, long total, string? detail = null) { }
    public void Done(string stage) { }
}

/// <summary>
/// Progress on stderr, so that stdout stays machine-readable. On a terminal it redraws one line;
/// otherwise it prints at most one line a second.
/// </summary>
public sealed class StderrProgress : IProgressSink
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly bool _interactive = !Console.IsErrorRedirected;
    string? _stage;
    TimeSpan _stageStart;
    TimeSpan? _lastPrint;

    public void Report(string stage, long done, long total, string? detail = null)
    {
        var now = _clock.Elapsed;
        if (stage != _stage) { _stage = stage; _stageStart = now; _lastPrint = null; }
        bool finished = total > 0 && done >= total;
        if (!finished && _lastPrint is { } last && now - last < TimeSpan.FromSeconds(_interactive ? 0.1 : 1)) return;
        _lastPrint = now;
        Console.Error.Write((_interactive ? "\r" : "") + Format(stage, done, total, now - _stageStart) + (detail == null ? "" : $" {detail}") + (_interactive ? "\u001b[K" : "\n"));
    }

    public void Done(string stage)
    {
        if (_interactive && _stage != null) Console.Error.WriteLine();
        _stage = null;
    }

    public static string Format(string stage, long done, long total, TimeSpan elapsed)
    {
        if (total <= 0) return $"{stage}: {done} ({elapsed.TotalSeconds:F1} s)";
        double fraction = Math.Clamp((double)done / total, 0, 1);
        string eta = fraction > 0 && fraction < 1
            ? $", ETA {TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction):hh\\:mm\\:ss}"
            : "";
        return $"{stage}: {done}/{total} ({fraction:P0}, {elapsed.TotalSeconds:F1} s{eta})";
    }
}
