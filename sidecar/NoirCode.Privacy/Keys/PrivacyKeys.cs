using System.Text.Json;
using System.Text.Json.Nodes;
using NoirCode.Core.Generation;
using NoirCode.Core.Model;
using NoirCode.Core.Split;
using NoirCode.Core.Weights;
using NoirCode.Privacy.IndVocab;
using static TorchSharp.torch;

namespace NoirCode.Privacy.Keys;

/// <summary>What keys.json records about a key set. None of it is secret; the tables are.</summary>
public sealed record KeyMetadata(
    string KeyId, string Label, bool Demo, double Epsilon, int VocabSize, int HiddenSize, string ModelFingerprint,
    DateTimeOffset CreatedUtc, double Theorem1MinEpsilon, double KeepRate, double MeanL1, double GenerationSeconds)
{
    public bool Theorem1Holds => Epsilon >= Theorem1MinEpsilon;
    /// <summary>The table's true ε (each column's exact worst ratio, composed over features and over the k
    /// homophone tables); null for keys made before it was recorded.</summary>
    public double? ComposedEpsilon { get; init; }
    /// <summary>Embedding rows per token (homophonic INDVocab: k independent tables, one picked per occurrence); 1 for
    /// the paper's single table. Each table is ε-IND on its own, so k tables together give k·ε.</summary>
    public int Homophones { get; init; } = 1;
    /// <summary>The ε of all the tables together (sequential composition over the k homophone tables).</summary>
    public double TotalEpsilon => Epsilon * Homophones;
    /// <summary>Demo keys only: the published text their tables derive from (<see cref="PrivacyKeys.FromPublicSeed"/>), so the
    /// bundle ships keys.json alone and anyone can re-derive them; null for every other key set.</summary>
    public string? PublicSeed { get; init; }
    /// <summary>SHA-256 of the tables and permutation, recorded with <see cref="PublicSeed"/> so a derivation that came out
    /// differently (another INDVocab implementation) is refused instead of running a tuned shard on the wrong tables.</summary>
    public string? TablesSha256 { get; init; }
    public TimeSpan Age(DateTimeOffset now) => now - CreatedUtc;
}

/// <summary>
/// A privacy key set, bound to one model: the INDVocab table (rows in LTokenizer index order, so it is the
/// client's embedding table as is; under homophonic keys k tables stacked, token t's j-th row at π(t) + j·V) and the
/// LTokenizer permutation. Lives in an owner-only folder (keys.json + keys.safetensors, 0600 in 0700) and never
/// leaves the machine. Format 1 is the single table; format 2 adds the homophone count.
/// </summary>
public sealed class PrivacyKeys
{
    public const string MetadataFile = "keys.json", TablesFile = "keys.safetensors", Format = "noir-keys/1", HomophonicFormat = "noir-keys/2";
    /// <summary>The most rows per token a key set may hold (the embedding grows k-fold on the client).</summary>
    public const int MaxHomophones = 256;
    /// <summary>What new keys get unless told otherwise: 16 tables (the strongest defence measured, docs/privacy.md §10:
    /// the attack reads 6.8 % of content at 10⁵ tokens against 25–35 % with one table, for +0.8 % held-out loss), fewer
    /// when 16 float32 tables would not fit in <see cref="DefaultTablesBytes"/> of the client's memory (a 7B model's
    /// table alone is 0.5 GB: it gets one).</summary>
    public const int DefaultHomophonesMost = 16;
    public const long DefaultTablesBytes = 512L << 20;

    public static int DefaultHomophones(ModelConfig config) =>
        (int)Math.Clamp(DefaultTablesBytes / ((long)config.VocabSize * config.HiddenSize * sizeof(float)), 1, DefaultHomophonesMost);
    const string TableName = "indvocab.embedding", PermutationName = "ltokenizer.permutation";

    public KeyMetadata Metadata { get; }
    public LTokenizer Permutation { get; }
    /// <summary>[k·V, m] row-major; row π(t) + j·V is token t's j-th randomised row ẽ_t^(j).</summary>
    public float[] IndexedTable { get; }

    PrivacyKeys(KeyMetadata metadata, LTokenizer permutation, float[] table)
    {
        Metadata = metadata; Permutation = permutation; IndexedTable = table;
    }

    /// <summary>Generates a key set for the model's embedding table: a random LTokenizer, and INDVocab at ε
    /// written straight into index order (row π(t) = ẽ_t), so no second copy of the table is needed.</summary>
    /// <param name="tableDtype">how the table is stored: the embedding's own float type is lossless, since ARR
    /// only copies values that are already in the table</param>
    public static (PrivacyKeys Keys, IndVocabStats Stats) Generate(float[] embedding, ModelConfig config, string modelFingerprint,
        double epsilon, string label = "private", bool demo = false, byte[]? seedKey = null, Core.Util.IProgressSink? progress = null,
        string tableDtype = "F32", int homophones = 1, string? publicSeed = null)
    {
        if (homophones < 1 || homophones > MaxHomophones) throw new ArgumentOutOfRangeException(nameof(homophones), $"homophones must be 1 to {MaxHomophones}");
        if (publicSeed != null && (!demo || seedKey != null))
            throw new ArgumentException("a public seed makes keys anyone can re-derive: only demo keys may have one, and it replaces the seed key");
        byte[] key = publicSeed != null ? PublicSeedKey(publicSeed) : seedKey ?? CtrRandom.NewKey();
        LTokenizer permutation;
        using (var rng = new CtrRandom(key, ulong.MaxValue)) // a stream no feature column uses
            permutation = LTokenizer.Random(config.VocabSize, rng);
        long rows = (long)config.VocabSize * config.HiddenSize;
        var table = new float[homophones * rows];
        IndVocabStats? stats = null;
        double composed = 0;
        for (int j = 0; j < homophones; j++)
        {
            // Table 0 from the key itself (so k = 1 is the paper's table), the others from keys derived from it.
            var (part, s) = IndVocabGenerator.Generate(embedding, config.VocabSize, config.HiddenSize, epsilon, HomophoneKey(key, j), progress, rowOf: permutation.Forward);
            Array.Copy(part, 0, table, j * rows, rows);
            composed += s.ComposedEpsilon;
            stats = stats == null ? s : stats with
            {
                KeepRate = stats.KeepRate + s.KeepRate,
                MeanL1 = stats.MeanL1 + s.MeanL1,
                Elapsed = stats.Elapsed + s.Elapsed,
                WorstColumnLogRatio = Math.Max(stats.WorstColumnLogRatio, s.WorstColumnLogRatio)
            };
        }
        stats = stats! with { KeepRate = stats.KeepRate / homophones, MeanL1 = stats.MeanL1 / homophones, ComposedEpsilon = composed };
        // Keys from a public seed are named by their tables, so every derivation is the same key (and ledger line).
        string? digest = publicSeed != null ? Digest(table, permutation) : null;
        string keyId = digest?[..16] ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var metadata = new KeyMetadata(keyId, label, demo, epsilon, config.VocabSize, config.HiddenSize, modelFingerprint, DateTimeOffset.UtcNow,
            stats.Theorem1MinEpsilon, stats.KeepRate, stats.MeanL1, stats.Elapsed.TotalSeconds)
        { ComposedEpsilon = stats.ComposedEpsilon, Homophones = homophones, PublicSeed = publicSeed, TablesSha256 = digest };
        return (new PrivacyKeys(metadata, permutation, table) { TableDtype = tableDtype }, stats);
    }

    /// <summary>
    /// Re-derives demo keys from their keys.json alone (its public seed, ε, homophone count and the model's embedding) and
    /// checks them against the recorded digest; the result carries that keys.json's metadata unchanged.
    /// </summary>
    public static PrivacyKeys FromPublicSeed(KeyMetadata metadata, float[] embedding, ModelConfig config, string tableDtype)
    {
        if (!metadata.Demo || metadata.PublicSeed is not { } seed || metadata.TablesSha256 is not { } expected)
            throw new InvalidOperationException($"keys {metadata.KeyId} have no public seed and digest: only demo keys published as a seed can be derived");
        if (config.VocabSize != metadata.VocabSize || config.HiddenSize != metadata.HiddenSize)
            throw new KeyMismatchException($"the demo keys are for a vocabulary of {metadata.VocabSize} and hidden size {metadata.HiddenSize}; this model has {config.VocabSize} and {config.HiddenSize}");
        var (derived, _) = Generate(embedding, config, metadata.ModelFingerprint, metadata.Epsilon, metadata.Label, demo: true, tableDtype: tableDtype,
            homophones: metadata.Homophones, publicSeed: seed);
        if (derived.Metadata.TablesSha256 != expected)
            throw new IOException($"the demo keys derived from their public seed do not match keys.json (tables {derived.Metadata.TablesSha256![..12]}…, recorded {expected[..Math.Min(12, expected.Length)]}…): "
                + "this NoirCode's INDVocab or this model's embedding differs from the ones that made them, and the demo's tuned shard would not fit them");
        return new PrivacyKeys(metadata, derived.Permutation, derived.IndexedTable) { TableDtype = tableDtype };
    }

    /// <summary>The 32-byte key a public seed stands for: anyone holding the text derives the same tables.</summary>
    static byte[] PublicSeedKey(string seed) =>
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("noircode public demo keys\n" + seed));

    static string Digest(float[] table, LTokenizer permutation)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(table.AsSpan()));
        sha.AppendData(IntBytes(permutation.Forward.ToArray()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static byte[] HomophoneKey(byte[] key, int j) => j == 0 ? key
        : System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes($"noir homophone table {j}"));

    /// <summary>How this key set maps tokens: the LTokenizer, or with k &gt; 1 rows per token a fresh homophonic
    /// mapping (its per-occurrence choices come from a CSPRNG of its own).</summary>
    public IVocabularyMapping Mapping() => Metadata.Homophones == 1 ? Permutation : new HomophonicVocabulary(Permutation, Metadata.Homophones);

    /// <summary>Stored float type of the table (F32, BF16 or F16).</summary>
    public string TableDtype { get; private init; } = "F32";

    /// <summary>The model's original embedding as float32 [V, m] and its stored dtype, from a whole model or client shard.</summary>
    public static (float[] Values, string Dtype) ReadEmbedding(string modelFolder, ModelConfig config)
    {
        var (entry, values) = WeightFolder.Open(modelFolder).ReadFloats(ModelLayout.Embedding, ModelLayout.EmbeddingShape(config));
        return (values, entry.Dtype);
    }

    public void Save(string folder)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new IOException($"key folder {folder} is not empty; keys are never overwritten (choose a new folder)");
        SecureFiles.CreateFolder(folder);
        var tables = new[]
        {
            TensorData.OfFloats(TableName, TableDtype, new long[] { (long)Metadata.Homophones * Metadata.VocabSize, Metadata.HiddenSize }, IndexedTable),
            TensorData.Of(PermutationName, "I32", new long[] { Metadata.VocabSize }, IntBytes(Permutation.Forward.ToArray())),
        };
        SafetensorsFile.Write(Path.Combine(folder, TablesFile), tables, mode: SecureFiles.OwnerFile);
        var m = Metadata;
        var json = new JsonObject
        {
            ["format"] = m.Homophones == 1 ? Format : HomophonicFormat, ["key_id"] = m.KeyId, ["label"] = m.Label, ["demo"] = m.Demo,
            ["epsilon"] = m.Epsilon, ["vocab_size"] = m.VocabSize, ["hidden_size"] = m.HiddenSize,
            ["model_fingerprint"] = m.ModelFingerprint, ["created_utc"] = m.CreatedUtc.ToString("O"),
            ["mechanism"] = "INDVocab: ARR (NOIR Eq. 2), eps_i = eps/m, beta at the Theorem 1 upper bound; LTokenizer: uniform permutation",
            ["theorem1_min_epsilon"] = m.Theorem1MinEpsilon, ["theorem1_holds"] = m.Theorem1Holds,
            ["keep_rate"] = m.KeepRate, ["mean_l1"] = m.MeanL1, ["generation_seconds"] = m.GenerationSeconds,
        };
        // The ε the table really gives (exact per-column worst ratios, composed), beside the ε asked for.
        if (m.ComposedEpsilon is double composed) { json["composed_epsilon"] = composed; json["composed_epsilon_within_epsilon"] = composed <= m.TotalEpsilon * (1 + 1e-9); }
        if (m.Homophones > 1)
        {
            json["homophones"] = m.Homophones;
            json["total_epsilon"] = m.TotalEpsilon;
            json["mechanism"] = $"homophonic INDVocab: {m.Homophones} independent ARR tables (NOIR Eq. 2, eps_i = eps/m each), one picked per occurrence from a CSPRNG; "
                + "eps is per table, total_epsilon = homophones x eps (sequential composition); LTokenizer: uniform permutation";
        }
        if (m.PublicSeed != null) { json["public_seed"] = m.PublicSeed; json["tables_sha256"] = m.TablesSha256; }
        SecureFiles.WriteAllText(Path.Combine(folder, MetadataFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static KeyMetadata ReadMetadata(string folder)
    {
        string path = Path.Combine(folder, MetadataFile);
        if (!File.Exists(path)) throw new IOException($"{folder} holds no privacy keys ({MetadataFile} is missing); create them with 'noir keygen'");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            string? format = (string?)o["format"];
            if (format != Format && format != HomophonicFormat)
                throw new IOException($"{path}: unknown key format '{format}' (this NoirCode reads {Format} and {HomophonicFormat}); a newer NoirCode made these keys, or they are not NoirCode keys");
            int homophones = format == Format ? 1 : (int?)o["homophones"] ?? throw new IOException($"{path}: a {HomophonicFormat} key set without its homophone count");
            if (homophones < 1 || homophones > MaxHomophones) throw new IOException($"{path} is corrupt: {homophones} homophones (1 to {MaxHomophones})");
            if (o["public_seed"] != null && ((bool?)o["demo"] != true || o["tables_sha256"] == null))
                throw new IOException($"{path} is corrupt: keys with a public seed must be demo keys with their tables' digest");
            return new KeyMetadata((string)o["key_id"]!, (string)o["label"]!, (bool)o["demo"]!, (double)o["epsilon"]!,
                (int)o["vocab_size"]!, (int)o["hidden_size"]!, (string)o["model_fingerprint"]!,
                DateTimeOffset.Parse((string)o["created_utc"]!, System.Globalization.CultureInfo.InvariantCulture),
                (double)o["theorem1_min_epsilon"]!, (double)o["keep_rate"]!, (double)o["mean_l1"]!, (double)o["generation_seconds"]!)
            { ComposedEpsilon = (double?)o["composed_epsilon"], Homophones = homophones, PublicSeed = (string?)o["public_seed"], TablesSha256 = (string?)o["tables_sha256"] };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new IOException($"{path} is corrupt: {e.Message}");
        }
    }

    /// <summary>Loads keys after checking they are owner-only and were made for this model.</summary>
    public static PrivacyKeys Load(string folder, string expectedModelFingerprint)
    {
        var metadata = ReadMetadata(folder);
        if (metadata.PublicSeed != null && !File.Exists(Path.Combine(folder, TablesFile)))
            throw new IOException($"{folder} holds demo keys published as a seed, without their tables: leave the keys unset to run the demo (the sidecar derives them), "
                + $"or derive them with noir keygen --model MODEL --demo --epsilon {metadata.Epsilon} --homophones {metadata.Homophones} --out NEWDIR --public-seed and the public_seed of its keys.json");
        SecureFiles.CheckOwnerOnly(folder);
        SecureFiles.CheckOwnerOnly(Path.Combine(folder, MetadataFile));
        SecureFiles.CheckOwnerOnly(Path.Combine(folder, TablesFile));
        if (metadata.ModelFingerprint != expectedModelFingerprint)
            throw new KeyMismatchException(
                $"the privacy keys in {folder} were made for another model ({Short(metadata.ModelFingerprint)}), not this one ({Short(expectedModelFingerprint)}); make keys for this model with 'noir keygen --model DIR --epsilon E --out NEWDIR'");
        var file = SafetensorsFile.Open(Path.Combine(folder, TablesFile));
        var tableEntry = file.Tensors.GetValueOrDefault(TableName) ?? throw new IOException($"{TablesFile} has no {TableName}");
        var permEntry = file.Tensors.GetValueOrDefault(PermutationName) ?? throw new IOException($"{TablesFile} has no {PermutationName}");
        if (!tableEntry.Shape.SequenceEqual(new long[] { (long)metadata.Homophones * metadata.VocabSize, metadata.HiddenSize }) || tableEntry.Dtype is not ("F32" or "BF16" or "F16") ||
            !permEntry.Shape.SequenceEqual(new long[] { metadata.VocabSize }) || permEntry.Dtype != "I32")
            throw new IOException($"{TablesFile} does not match {MetadataFile} (vocabulary {metadata.VocabSize}, hidden size {metadata.HiddenSize}, {metadata.Homophones} row(s) per token)");
        var table = file.ReadFloats(tableEntry);
        if (!Array.TrueForAll(table, float.IsFinite)) throw new IOException($"{Path.Combine(folder, TablesFile)} is corrupt: the INDVocab table holds NaN or infinite values");
        var perm = new int[metadata.VocabSize];
        Buffer.BlockCopy(file.ReadBytes(permEntry), 0, perm, 0, perm.Length * 4);
        LTokenizer permutation;
        try { permutation = new LTokenizer(perm); }
        catch (ArgumentException) { throw new IOException($"{Path.Combine(folder, TablesFile)} is corrupt: the LTokenizer permutation is not a permutation of the vocabulary"); }
        return new PrivacyKeys(metadata, permutation, table) { TableDtype = tableEntry.Dtype };
    }

    /// <summary>
    /// Puts the keys into a client model: its input embedding becomes the INDVocab table in index order.
    /// The head must be untied (load with untieHead), so that it keeps the public rows in token order and
    /// STuning teaches it the secret indices (see docs/privacy.md). Returns the mapping for the session.
    /// </summary>
    public IVocabularyMapping ApplyTo(ClientModel client)
    {
        if (client.Config.VocabSize != Metadata.VocabSize || client.Config.HiddenSize != Metadata.HiddenSize)
            throw new KeyMismatchException($"the keys are for a vocabulary of {Metadata.VocabSize} and hidden size {Metadata.HiddenSize}; this model has {client.Config.VocabSize} and {client.Config.HiddenSize}");
        if (client.Head.Tied) throw new InvalidOperationException("load the client with untieHead: true before applying keys, or the head would change with the embedding");
        using var _ = no_grad();
        using var table = tensor(IndexedTable, new long[] { (long)Metadata.Homophones * Metadata.VocabSize, Metadata.HiddenSize }).to(client.Embedding.Weight.dtype);
        if (Metadata.Homophones == 1) client.Embedding.Weight.copy_(table);
        else client.Embedding.Replace(table);
        return Mapping();
    }

    static string Short(string fingerprint) => fingerprint.Length > 19 ? fingerprint[..19] + "…" : fingerprint;

    static byte[] IntBytes(int[] v) { var b = new byte[v.Length * 4L]; Buffer.BlockCopy(v, 0, b, 0, b.Length); return b; }
}

/// <summary>Keys that belong to a different model than the one loaded.</summary>
public sealed class KeyMismatchException(string message) : Exception(message);
