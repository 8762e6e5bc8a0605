using System.Globalization;

namespace NoirCode.STuning.LabelProtection;

/// <summary>
/// How STuning keeps its labels out of the boundary gradient ∂L/∂Ë the endpoint receives (docs/privacy.md §9.3).
/// The client's decoder and head always train on the full loss, locally; only the gradient that leaves is changed:
/// <list type="bullet">
/// <item><see cref="KeepRate"/>: each labelled position's loss enters the sent gradient with this probability,
/// drawn secretly per sample; a dropped position's label is absent from everything the endpoint receives;</item>
/// <item><see cref="NoiseMultiplier"/>: every row of the sent gradient is clipped to the median norm C of the
/// sample's rows, then Gaussian noise of standard deviation σ·C per coordinate is added (Marvell-style).</item>
/// </list>
/// The mask and the noise come from a CSPRNG keyed by a secret derived from the privacy keys.
/// </summary>
public sealed record LabelProtectionSettings(double KeepRate, double NoiseMultiplier)
{
    /// <summary>The sent gradient is the exact one: every label can be solved from it (the undefended baseline).</summary>
    public static readonly LabelProtectionSettings None = new(1.0, 0.0);

    /// <summary>The shipped default, chosen from the measured frontier (docs/privacy.md §9.3): no label's loss enters
    /// the sent gradient (it is all zeros), so the endpoint's traffic is forward-only, as at inference, and the
    /// decoder and head tune locally. Every partial setting measured (noise that hides the labels, or a small kept
    /// share) tuned worse than sending nothing: a noisy gradient moves the encoder and the tenant's LoRA at random.</summary>
    public static readonly LabelProtectionSettings Default = new(0.0, 0.0);

    public bool Enabled => KeepRate < 1.0 || NoiseMultiplier > 0;

    /// <summary>No label-dependent gradient leaves at all (the rows sent are zeros).</summary>
    public bool ForwardOnly => KeepRate == 0;

    /// <summary>The name reports use: "none", or the parameters (marked when they are the default).</summary>
    public string Name => !Enabled ? "none" : string.Format(CultureInfo.InvariantCulture, "keep={0:G},noise={1:G}{2}", KeepRate, NoiseMultiplier,
        this == Default ? " (default, forward-only)" : "");

    /// <summary>"none", "default", or "keep=K,noise=S" (K in [0, 1], S ≥ 0; K = 0 sends no label's gradient at all).</summary>
    public static LabelProtectionSettings Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "none") return None;
        if (t == "default") return Default;
        double? keep = null, noise = null;
        foreach (var part in t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new ArgumentException($"label protection '{text}': expected none, default or keep=K,noise=S");
            if (kv[0] == "keep") keep = v;
            else if (kv[0] == "noise") noise = v;
            else throw new ArgumentException($"label protection '{text}': unknown field '{kv[0]}' (keep, noise)");
        }
        var s = new LabelProtectionSettings(keep ?? 1.0, noise ?? 0.0);
        s.Validate();
        return s;
    }

    public void Validate()
    {
        if (!(KeepRate >= 0 && KeepRate <= 1)) throw new ArgumentException($"label protection: keep rate must be in [0, 1], not {KeepRate}");
        if (!(NoiseMultiplier >= 0) || !double.IsFinite(NoiseMultiplier)) throw new ArgumentException($"label protection: noise multiplier must be ≥ 0, not {NoiseMultiplier}");
    }
}
