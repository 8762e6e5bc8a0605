namespace NoirCode.Bench.Infrastructure;

/// <summary>Resident memory of a process, from /proc (the child endpoint's, not ours).</summary>
public static class ProcessMemory
{
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}
