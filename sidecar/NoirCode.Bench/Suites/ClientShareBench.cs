using System.Text.Json.Nodes;
using NoirCode.Bench.Infrastructure;
using NoirCode.Core.Model;
using NoirCode.Core.Split;

namespace NoirCode.Bench.Suites;

/// <summary>
/// The client's share of the work, computed analytically from model configs (no run): parameters, weight memory,
/// KV memory and FLOPs per generated token on the client against the whole model, for the bundled model and
/// two 7B-shaped configs (CodeLlama-7B and Qwen2.5-Coder-7B shapes, from their published config.json values).
/// </summary>
public static class ClientShareBench
{
    /// <summary>FLOPs per token count 2 per multiply-add of every weight matrix, plus 4·heads·head_dim·context for attention.</summary>
    sealed record Share(long Params, double FlopsPerToken, long KvBytesPerToken);

    static long BlockParams(ModelConfig c) =>
        (long)c.HiddenSize * c.NumHeads * c.HeadDim * 2 + 2L * c.HiddenSize * c.NumKvHeads * c.HeadDim // q, o; k, v
        + 3L * c.HiddenSize * c.IntermediateSize + 2L * c.HiddenSize;                                  // SwiGLU; two norms

    static double BlockFlops(ModelConfig c, int context) => 2.0 * (BlockParams(c) - 2L * c.HiddenSize) + 4.0 * c.NumHeads * c.HeadDim * context;

    static Share Part(ModelConfig c, int blocks, bool embedding, bool head, bool untiedHeadUnderKeys, int context)
    {
        long vocab = (long)c.VocabSize * c.HiddenSize;
        long p = blocks * BlockParams(c) + (embedding ? vocab : 0) + (head ? c.HiddenSize : 0)
            + (head && (!c.TieWordEmbeddings || untiedHeadUnderKeys || !embedding) ? vocab : 0);
        double f = blocks * BlockFlops(c, context) + (head ? 2.0 * vocab : 0);
        return new Share(p, f, 2L * blocks * c.NumKvHeads * c.HeadDim * 4);
    }

    public static void Run(BenchContext ctx)
    {
        const int context = 1024;
        var bundled = ModelConfig.Load(ctx.Model);
        var codeLlama = new ModelConfig { VocabSize = 32016, HiddenSize = 4096, IntermediateSize = 11008, NumLayers = 32, NumHeads = 32, NumKvHeads = 32, HeadDim = 128, TieWordEmbeddings = false };
        var qwen = new ModelConfig { VocabSize = 152064, HiddenSize = 3584, IntermediateSize = 18944, NumLayers = 28, NumHeads = 28, NumKvHeads = 4, HeadDim = 128, TieWordEmbeddings = false };
        var cases = new (string Name, string Key, ModelConfig Config, SplitSpec Split)[]
        {
            ("noir-coder-8m (bundled)", "bundled", bundled, SplitSpec.Default),
            ("CodeLlama-7B shape", "7b", codeLlama, SplitSpec.Default),
            ("CodeLlama-7B shape", "7b_split_1_1", codeLlama, new SplitSpec(1, 1)),
            ("Qwen2.5-Coder-7B shape", "qwen7b", qwen, SplitSpec.Default),
        };
        var rows = new List<string>();
        var figures = new JsonObject();
        foreach (var (name, key, c, split) in cases)
        {
            var whole = Part(c, c.NumLayers, embedding: true, head: true, untiedHeadUnderKeys: false, context);
            var client = Part(c, split.EncoderBlocks + split.DecoderBlocks, embedding: true, head: true, untiedHeadUnderKeys: true, context);
            var cloud = Part(c, split.MiddleCount(c.NumLayers), embedding: false, head: false, untiedHeadUnderKeys: false, context);
            double flopShare = client.FlopsPerToken / whole.FlopsPerToken, memShare = (double)client.Params / whole.Params;
            rows.Add($"| {name} | {split} | {whole.Params / 1e6:N1} M | {client.Params / 1e6:N1} M ({memShare:P0}) | {cloud.Params / 1e6:N1} M | " +
                     $"{whole.FlopsPerToken / 1e9:N3} | {client.FlopsPerToken / 1e9:N3} ({flopShare:P0}) | {whole.FlopsPerToken / client.FlopsPerToken:F1}× | " +
                     $"{client.Params * 2 / 1e9:N2} GB | {whole.KvBytesPerToken * context / 1e6:N1} / {client.KvBytesPerToken * context / 1e6:N1} MB |");
            figures[$"client_flops_share_{key}"] = Math.Round(flopShare, 4);
            figures[$"client_param_share_{key}"] = Math.Round(memShare, 4);
        }
        double F(string k) => (double)figures[$"client_flops_share_{k}"]!;
        string summary = $"With the bundled model the split saves the client little ({F("bundled"):P0} of the FLOPs stay local: 5 of its 8 blocks and a " +
            $"head that is a quarter of the model). For the CodeLlama-7B shape the client does {F("7b"):P0} of the FLOPs with the default split and " +
            $"{F("7b_split_1_1"):P0} with a (1, 1) split, i.e. {1 / F("7b_split_1_1"):F0}× less than hosting the model (the paper: about 10× cheaper).";
        string md = $"""
            ## 6. The client's share of the work (analytic, from the configs)

            Command: {ctx.Command()}. **Computed from the model configs, not measured**: parameters per part; FLOPs per generated token =
            2 × weights of every matrix used + 4 × heads × head_dim × context for attention, at a context of {context:N0} tokens; weight memory
            at 2 bytes per parameter (bf16); KV cache in fp32 as the engine keeps it. Under privacy keys the client holds the INDVocab
            table and an untied head (the public rows), so a tied embedding counts twice on the client. The 7B rows use the published
            shapes of CodeLlama-7B (32 layers, d 4,096, MLP 11,008, |V| 32,016, untied) and Qwen2.5-Coder-7B (28 layers, d 3,584,
            MLP 18,944, GQA 28/4, |V| 152,064, untied); no such weights are here.

            | model | split (enc, dec) | whole model params | client params (share) | endpoint params | whole GFLOP/token | client GFLOP/token (share) | whole ÷ client | client weights bf16 | KV at {context:N0} tokens, whole / client |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            {string.Join("\n", rows)}

            {summary}
            """;
        BenchReport.Write(ctx.Repo, "client-share", md, figures);
    }
}
