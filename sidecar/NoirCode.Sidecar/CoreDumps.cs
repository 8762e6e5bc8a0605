using System.Runtime.InteropServices;

namespace NoirCode.Sidecar;

/// <summary>
/// The sidecar's memory holds the open documents, the endpoint API key and the privacy keys: a crash must not
/// write it to a core file (or a .NET crash dump) that outlives the process, possibly readable by others.
/// </summary>
public static class CoreDumps
{
    [StructLayout(LayoutKind.Sequential)]
    struct RLimit { public ulong Current, Max; }

    const int RlimitCore = 4; // Linux and macOS

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    static extern int SetRLimit(int resource, ref RLimit limit);

    /// <summary>No core files for this process or the processes it starts; no .NET crash dumps for its children.</summary>
    public static void Disable()
    {
        Environment.SetEnvironmentVariable("DOTNET_DbgEnableMiniDump", "0");
        if (OperatingSystem.IsWindows()) return;
        var none = new RLimit { Current = 0, Max = 0 };
        try { SetRLimit(RlimitCore, ref none); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not a libc system: nothing to do */ }
    }
}
