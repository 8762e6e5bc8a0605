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
        string note = Math.Max(_before, after) > 0.5 * Environment.ProcessorCount
            ? " Other processes were loading the cores (other agents' builds and tests shared this machine): expect noise."
            : "";
        return $"Load average (1 min) before / after: {_before:F2} / {after:F2} on {Environment.ProcessorCount} cores.{note}";
    }
}
