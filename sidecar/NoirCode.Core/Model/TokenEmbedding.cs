using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoirCode.Core.Model;

/// <summary>The token embedding table [V, D]. It stays on the client; only its outputs travel (after INDVocab).</summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;

    public TokenEmbedding(Tensor weight) : base(nameof(TokenEmbedding))
    {
        this.weight = new Parameter(weight);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>Puts another table in place (its row count may differ: homophonic keys hold k rows per token).</summary>
    public void Replace(Tensor table)
    {
        using var _ = no_grad();
        if (table.shape.Length != 2 || table.shape[1] != weight.shape[1])
            throw new ArgumentException($"the table must be [rows, {weight.shape[1]}], not [{string.Join(", ", table.shape)}]");
        weight.set_(table.to(weight.dtype, weight.device));
    }

    /// <summary>ids [B, T] (int64) → [B, T, D]</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        return weight.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], -1).MoveToOuterDisposeScope();
    }
}
