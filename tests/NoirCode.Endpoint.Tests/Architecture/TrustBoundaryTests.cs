using System.Reflection;
using NoirCode.Privacy.Egress;
using NoirCode.Protocol;

namespace NoirCode.Endpoint.Tests.Architecture;

/// <summary>
/// The trust boundary as the build draws it (issue #18): the endpoint links nothing of the client's (no privacy
/// keys, INDVocab, ledger, sidecar or attack harness), the protocol depends on Core alone, and only the egress
/// guard can turn client data into a request's hidden-state block.
/// </summary>
public class TrustBoundaryTests
{
    static readonly string[] ClientSide = { "NoirCode.Privacy", "NoirCode.Sidecar", "NoirCode.Attack", "NoirCode.Remote", "NoirCode.STuning", "NoirCode.Training", "NoirCode.Bench", "NoirCode.Testing", "noir" };

    [TestCase("noir-endpoint")]
    [TestCase("NoirCode.Endpoint")]
    public void TheEndpointLinksNoClientCode(string assembly)
    {
        var references = AssemblyGraph.TransitiveReferences(assembly);
        Assert.That(references, Is.EquivalentTo(assembly == "noir-endpoint"
            ? new[] { "NoirCode.Endpoint", "NoirCode.Protocol", "NoirCode.Core" }
            : new[] { "NoirCode.Protocol", "NoirCode.Core" }));
        Assert.That(references.Intersect(ClientSide), Is.Empty);
    }

    [Test]
    public void TheProtocolDependsOnCoreOnly() =>
        Assert.That(AssemblyGraph.TransitiveReferences("NoirCode.Protocol"), Is.EquivalentTo(new[] { "NoirCode.Core" }));

    /// <summary>Remote is the transport only: split fine-tuning lives in STuning, on top of it.</summary>
    [Test]
    public void TheTransportHoldsNoTuner()
    {
        Assert.That(AssemblyGraph.TransitiveReferences("NoirCode.Remote"), Is.EquivalentTo(new[] { "NoirCode.Privacy", "NoirCode.Protocol", "NoirCode.Core" }));
        Assert.That(AssemblyGraph.TransitiveReferences("NoirCode.STuning"), Does.Contain("NoirCode.Remote"));
    }

    /// <summary>The reader sees real edges: the client transport does reach the guard (so the tests above can fail).</summary>
    [Test]
    public void TheGraphReaderSeesTheClientsEdges()
    {
        Assert.That(AssemblyGraph.TransitiveReferences("NoirCode.Remote"), Is.SupersetOf(new[] { "NoirCode.Privacy", "NoirCode.Protocol", "NoirCode.Core" }));
        Assert.That(AssemblyGraph.TransitiveReferences("noir"), Does.Contain("NoirCode.Endpoint"), "the CLI hosts `noir cloud serve`");
    }

    /// <summary>Only EgressGuard.Admit mints a packet, and nothing else on the client side can encode a tensor for the wire.</summary>
    [Test]
    public void OnlyTheGuardCanMakeARequestBlockFromATensor()
    {
        Assert.That(typeof(EgressPacket).GetConstructors(BindingFlags.Public | BindingFlags.Instance), Is.Empty, "EgressPacket's constructor is internal");
        Assert.That(typeof(EgressPacket).GetProperties().Where(p => p.SetMethod?.IsPublic == true), Is.Empty, "a packet cannot be changed after the guard admitted it");
        Assert.That(typeof(HiddenStateCodec).GetMethod("Encode", BindingFlags.Public | BindingFlags.Static), Is.Null, "the codec's encoder is internal to Protocol");
        Assert.That(typeof(HiddenBlocks).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name), Is.EquivalentTo(new[] { "Decode" }),
            "Protocol offers receivers decoding only; blocks are built by the guard's packets and the endpoint's replies");
        var visibleTo = typeof(HiddenStateCodec).Assembly.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName);
        Assert.That(visibleTo, Is.EquivalentTo(new[] { "NoirCode.Privacy", "NoirCode.Endpoint" }));
    }
}
