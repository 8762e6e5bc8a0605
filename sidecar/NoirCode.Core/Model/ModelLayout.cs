namespace NoirCode.Core.Model;

/// <summary>
/// The Hugging Face tensor names and shapes of a Llama-family model: the single source of truth for
/// loading, random initialisation, splitting and the float64 reference.
/// </summary>
public static class ModelLayout
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string Layer(int i, string part) => $"model.layers.{i}.{part}";

    public static IEnumerable<(string Name, long[] Shape)> BlockTensors(ModelConfig c, int i)
    {
        long d = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim, f = c.IntermediateSize;
        yield return (Layer(i, "input_layernorm.weight"), new[] { d });
        yield return (Layer(i, "self_attn.q_proj.weight"), new[] { q, d });
        yield return (Layer(i, "self_attn.k_proj.weight"), new[] { kv, d });
        yield return (Layer(i, "self_attn.v_proj.weight"), new[] { kv, d });
        if (c.QkvBias)
        {
            yield return (Layer(i, "self_attn.q_proj.bias"), new[] { q });
            yield return (Layer(i, "self_attn.k_proj.bias"), new[] { kv });
            yield return (Layer(i, "self_attn.v_proj.bias"), new[] { kv });
        }
        yield return (Layer(i, "self_attn.o_proj.weight"), new[] { d, q });
        if (c.OutputBias) yield return (Layer(i, "self_attn.o_proj.bias"), new[] { d });
        yield return (Layer(i, "post_attention_layernorm.weight"), new[] { d });
        yield return (Layer(i, "mlp.gate_proj.weight"), new[] { f, d });
        yield return (Layer(i, "mlp.up_proj.weight"), new[] { f, d });
        yield return (Layer(i, "mlp.down_proj.weight"), new[] { d, f });
        if (c.MlpBias)
        {
            yield return (Layer(i, "mlp.gate_proj.bias"), new[] { f });
            yield return (Layer(i, "mlp.up_proj.bias"), new[] { f });
            yield return (Layer(i, "mlp.down_proj.bias"), new[] { d });
        }
    }

    public static long[] EmbeddingShape(ModelConfig c) => new long[] { c.VocabSize, c.HiddenSize };

    /// <summary>Tensors of the output side: final norm, and the LM head unless it is tied to the embedding.</summary>
    public static IEnumerable<(string Name, long[] Shape)> HeadTensors(ModelConfig c)
    {
        yield return (FinalNorm, new long[] { c.HiddenSize });
        if (!c.TieWordEmbeddings) yield return (LmHead, EmbeddingShape(c));
    }

    /// <summary>Every tensor of a shard holding the given layers, and optionally the embedding and the head.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Tensors(ModelConfig c, IEnumerable<int> layers, bool embedding, bool head)
    {
        // A tied head reads the embedding matrix, so a shard with the head holds the embedding too.
        if (embedding || (head && c.TieWordEmbeddings)) yield return (Embedding, EmbeddingShape(c));
        foreach (int i in layers)
            foreach (var t in BlockTensors(c, i)) yield return t;
        if (head) foreach (var t in HeadTensors(c)) yield return t;
    }

    public static IEnumerable<(string Name, long[] Shape)> AllTensors(ModelConfig c) =>
        Tensors(c, Enumerable.Range(0, c.NumLayers), embedding: true, head: true);
}
