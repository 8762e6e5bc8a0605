using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using NoirCode.Sidecar.Completion;
using NoirCode.Sidecar.Lsp;
using NoirCode.Sidecar.Lsp.Features;

namespace NoirCode.Sidecar.Tests;

/// <summary>
/// tests/fixtures/protocol holds one example of each custom message between the extension and the sidecar; the
/// extension's tests check the same files against extension/src/protocol.ts. Here the sidecar's own types, with the
/// server's JSON options, must read each example and write back exactly its field names and value kinds, and the
/// example must name every field the type has: a field renamed on either side fails one of the two.
/// </summary>
public class ProtocolFixtureTests
{
    static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "protocol");

    static JsonElement Fixture(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json"))).RootElement;

    /// <summary>Each command and its argument and result types, as the server registers them.</summary>
    static IEnumerable<TestCaseData> Commands()
    {
        yield return new TestCaseData("generateFunction", GenerateFunctionFeature.Command, typeof(GenerateFunctionArguments), typeof(GeneratedFunction)).SetName("generateFunction");
        yield return new TestCaseData("exposureLedger", PrivacyCommands.ExposureLedger, typeof(ExposureLedgerArguments), typeof(ExposureLedgerResult)).SetName("exposureLedger");
        yield return new TestCaseData("rotateKeys", PrivacyCommands.RotateKeys, typeof(RotateKeysArguments), typeof(RotateKeysResult)).SetName("rotateKeys");
        yield return new TestCaseData("promptSecurityReport", PromptSecurity.Command, typeof(PromptSecurityArguments), typeof(PromptSecurityResult)).SetName("promptSecurityReport");
    }

    [TestCaseSource(nameof(Commands))]
    public void ACommandsArgumentsAndResultAreTheSidecarsTypes(string fixture, string command, Type arguments, Type result)
    {
        var f = Fixture(fixture);
        Assert.That(f.GetProperty("method").GetString(), Is.EqualTo("workspace/executeCommand"));
        Assert.That(f.GetProperty("command").GetString(), Is.EqualTo(command));
        Assert.That(f.GetProperty("arguments").GetArrayLength(), Is.EqualTo(1), "one argument object");
        RoundTrips(f.GetProperty("arguments")[0], arguments, "arguments[0]");
        RoundTrips(f.GetProperty("result"), result, "result");
    }

    [Test]
    public void ThePrivacyStatusIsTheSidecarsType()
    {
        var f = Fixture("privacyStatus");
        Assert.That(f.GetProperty("method").GetString(), Is.EqualTo(PrivacyStatusPublisher.Notification));
        RoundTrips(f.GetProperty("params"), typeof(PrivacyStatus), "params");
    }

    [Test]
    public void TheCompletionStatsAreTheSidecarsType()
    {
        var f = Fixture("completionStats");
        Assert.That(f.GetProperty("method").GetString(), Is.EqualTo(InlineCompletionFeature.StatsRequest));
        RoundTrips(f.GetProperty("result"), typeof(CompletionStatsSnapshot), "result");
    }

    /// <summary>The settings have no one type to write back: each setting the example names must change what the
    /// server reads (dropping it gives another result), so a name the server does not read fails.</summary>
    [Test]
    public void EverySettingTheExtensionForwardsIsReadByTheServer()
    {
        var f = Fixture("settings");
        var section = JsonNode.Parse(f.GetProperty("initializationOptions").GetRawText())!.AsObject();
        // By value: the record compares its arrays by reference.
        string Read(JsonObject o) => JsonSerializer.Serialize(SidecarSettings.From(JsonSerializer.SerializeToElement(o)));
        string all = Read(section);
        // The extension's own settings: which program runs, and its message log.
        string[] extensionOnly = { "sidecarPath", "trace" };
        foreach (var (name, _) in section)
        {
            var without = (JsonObject)section.DeepClone();
            without.Remove(name);
            bool read = Read(without) != all;
            if (extensionOnly.Contains(name)) Assert.That(read, Is.False, $"{name} is the extension's own");
            else Assert.That(read, Is.True, $"the server reads the setting {name}");
        }
        Assert.That(section.ContainsKey("apiKey"), Is.False, "the API key never travels in the settings");

        var change = f.GetProperty("didChangeConfiguration");
        Assert.That(change.GetProperty("method").GetString(), Is.EqualTo("workspace/didChangeConfiguration"));
        var p = change.GetProperty("params").Deserialize<DidChangeConfigurationParams>(LspJson.Options)!;
        // Every setting cleared: the sidecar's own defaults (the languages VS Code turns off by default aside), whatever
        // the initializationOptions said, since the extension sends every field.
        string defaults = JsonSerializer.Serialize(new SidecarSettings { DisabledLanguages = new[] { "markdown", "plaintext" } });
        Assert.That(JsonSerializer.Serialize(SidecarSettings.From(p.Settings)), Is.EqualTo(defaults));
        Assert.That(JsonSerializer.Serialize(SidecarSettings.From(p.Settings, f.GetProperty("initializationOptions"))), Is.EqualTo(defaults));
    }

    /// <summary>Reads <paramref name="example"/> as <paramref name="type"/> and writes it back: the same field names and
    /// value kinds, and every field of the type present in the example.</summary>
    static void RoundTrips(JsonElement example, Type type, string path)
    {
        object? value = null;
        Assert.DoesNotThrow(() => value = example.Deserialize(type, LspJson.Options), $"{path} reads as {type.Name}");
        var written = JsonSerializer.SerializeToElement(value, type, LspJson.Options);
        SameShape(example, written, path);
        NamesEveryField(example, type, path);
    }

    static string Kind(JsonElement e) => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? "boolean" : e.ValueKind.ToString();

    static void SameShape(JsonElement expected, JsonElement actual, string path)
    {
        Assert.That(Kind(actual), Is.EqualTo(Kind(expected)), $"{path}: kind");
        if (expected.ValueKind == JsonValueKind.Object)
        {
            var want = expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
            var got = actual.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
            Assert.That(got, Is.EqualTo(want), $"{path}: field names");
            foreach (var p in expected.EnumerateObject()) SameShape(p.Value, actual.GetProperty(p.Name), $"{path}.{p.Name}");
        }
        else if (expected.ValueKind == JsonValueKind.Array)
        {
            Assert.That(actual.GetArrayLength(), Is.EqualTo(expected.GetArrayLength()), $"{path}: length");
            for (int i = 0; i < expected.GetArrayLength(); i++) SameShape(expected[i], actual[i], $"{path}[{i}]");
        }
    }

    static void NamesEveryField(JsonElement example, Type type, string path)
    {
        var info = LspJson.Options.GetTypeInfo(Nullable.GetUnderlyingType(type) ?? type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when example.ValueKind == JsonValueKind.Object:
                foreach (var property in info.Properties)
                {
                    Assert.That(example.TryGetProperty(property.Name, out var v), Is.True, $"{path}: the example sets {property.Name} (every field, so a renamed one is caught)");
                    NamesEveryField(v, property.PropertyType, $"{path}.{property.Name}");
                }
                break;
            case JsonTypeInfoKind.Enumerable when example.ValueKind == JsonValueKind.Array:
                Assert.That(example.GetArrayLength(), Is.GreaterThan(0), $"{path}: the example has an item");
                foreach (var item in example.EnumerateArray()) NamesEveryField(item, info.ElementType!, $"{path}[]");
                break;
            case JsonTypeInfoKind.Dictionary when example.ValueKind == JsonValueKind.Object:
                foreach (var p in example.EnumerateObject()) NamesEveryField(p.Value, info.ElementType!, $"{path}.{p.Name}");
                break;
        }
    }
}
