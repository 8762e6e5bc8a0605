using System.Collections.Concurrent;

namespace NoirCode.Testing.Fuzzing;

/// <summary>
/// What a fuzzing run saw: how each malformed input was answered, and the findings (a crash, a hang, an answer
/// that betrays an unhandled server exception). A run with no findings is a pass.
/// </summary>
public sealed class FuzzReport
{
    public int Sent;
    public ConcurrentDictionary<string, int> Outcomes { get; } = new();
    public ConcurrentQueue<string> Findings { get; } = new();
    public int Hangs;
    public bool Crashed;
    public bool AnswersCorrectlyAfter;

    public void Count(string outcome) => Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
    public void Find(string finding) { if (Findings.Count < 200) Findings.Enqueue(finding); }

    public bool Passed => !Crashed && Hangs == 0 && Findings.IsEmpty && AnswersCorrectlyAfter;

    public string Summary() =>
        $"{Sent:N0} malformed inputs; crashes {(Crashed ? 1 : 0)}, hangs {Hangs}, other findings {Findings.Count}; answers correctly after: {(AnswersCorrectlyAfter ? "yes" : "NO")}; " +
        "outcomes: " + string.Join(", ", Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value:N0}"));
}
