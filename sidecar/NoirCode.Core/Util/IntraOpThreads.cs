using NoirCode.Core.Model;
using static TorchSharp.torch;

namespace NoirCode.Core.Util;

/// <summary>
/// One-token decode steps of a small model are many tiny operations, and handing each to libtorch's OpenMP team
/// costs more than it saves: on 2 cores the bundled model decodes about 10 % faster per token, and the endpoint's
/// batched steps about 40 % faster, on one intra-op thread (docs/benchmarks.md, section 4). Wide models keep all
/// threads, where each step is large enough to split. The setting is process-wide; the scope puts it back.
/// </summary>
public readonly struct IntraOpThreads : IDisposable
{
    /// <summary>Models up to this hidden size decode on one thread.</summary>
    public const int SmallModelHidden = 1024;
    readonly int _previous;

    IntraOpThreads(int threads)
    {
        _previous = get_num_threads();
        if (threads != _previous) set_num_threads(threads);
    }

    /// <summary>Steps up to this many tokens count as decode steps: a speculative step verifies a few drafted tokens at
    /// once, and switching the thread team between its steps and one-token steps would cost more than either.</summary>
    public const int DecodeStepTokens = 16;

    /// <summary>One thread for a decode step (<paramref name="tokens"/> rows of one token each, or a speculative step's
    /// few tokens) of a small model; otherwise nothing changes.</summary>
    public static IntraOpThreads ForDecode(ModelConfig config, long tokens) =>
        tokens <= DecodeStepTokens && config.HiddenSize <= SmallModelHidden ? new IntraOpThreads(1) : default;

    public void Dispose()
    {
        if (_previous > 0 && get_num_threads() != _previous) set_num_threads(_previous);
    }
}
