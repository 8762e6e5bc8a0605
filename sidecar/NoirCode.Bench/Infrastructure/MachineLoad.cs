namespace NoirCode.Bench.Infrastructure;

/// <summary>
/// The machine's load while a suite ran: the 1-minute load average before and after, so a reader can tell
/// whether other work shared the cores (on the 2-core development machine it usually did).
/// </summary>
public sealed class MachineLoad
{
    readonly double _before = Current();

    public static double Current()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture); }
        catch (IOException) { return double.NaN; }
    }

    public string Describe()
    {
        double after = Current();
        // The average trails by a minute and counts the benchmark's own processes (and the suite before it), so only a
        // load above the core count at the start says that other work shared the machine.
        string note = _before > Environment.ProcessorCount
            ? " Other work was running when the suite started: expect noise."
            : " (The average includes the benchmark's own processes.)";
        return $"Load average (1 min) before / after: {_before:F2} / {after:F2} on {Environment.ProcessorCount} cores.{note}";
    }
}
