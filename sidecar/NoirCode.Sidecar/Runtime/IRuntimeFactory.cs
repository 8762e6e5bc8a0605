using NoirCode.Sidecar.Lsp;

namespace NoirCode.Sidecar.Runtime;

/// <summary>Makes the runtimes the settings ask for (<see cref="RuntimeFactory"/>; tests give their own).</summary>
public interface IRuntimeFactory
{
    /// <summary>The runtime completions run on, with what it needs kept alive (the embedded endpoint).</summary>
    LoadedRuntime Load(SidecarSettings settings, Core.Util.IProgressSink progress);

    /// <summary>The whole model on this machine for what must not leave it (localModelFolder); null when none is set.</summary>
    LoadedRuntime? LoadWholeModel(SidecarSettings settings);
}
