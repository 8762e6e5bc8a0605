using NoirCode.Privacy.Ledger;
using NoirCode.Testing.Models;

namespace NoirCode.Sidecar.Tests;

/// <summary>What the sidecar charges to the ledger names the workspace by a per-user salted id, not the public-salt hash.</summary>
public class WorkspaceIdTests
{
    [Test]
    public void TheRuntimeChargesASaltedWorkspaceId()
    {
        using var temp = new TempModel("noir-workspace-id-", seed: 5);
        string root = temp.Root, model = temp.Folder;
        string? saved = Environment.GetEnvironmentVariable("NOIR_LEDGER_DIR");
        try
        {
            string Id(string ledger)
            {
                Environment.SetEnvironmentVariable("NOIR_LEDGER_DIR", Path.Combine(root, ledger));
                // Nothing is sent: the remote session connects on its first request.
                using var runtime = ModelRuntime.Create(new RuntimeSpec { ModelFolder = model, Endpoints = new[] { new Uri("http://127.0.0.1:9") }, Workspace = "/work/project" });
                return runtime.Guard!.WorkspaceId;
            }
            string first = Id("ledger-1");
            Assert.That(first, Is.EqualTo(WorkspaceIds.For(Path.Combine(root, "ledger-1"), "/work/project")), "the ledger's per-user salted id");
            Assert.That(Id("ledger-2"), Is.Not.EqualTo(first));
            Assert.That(Id("ledger-1"), Is.EqualTo(first));
        }
        finally { Environment.SetEnvironmentVariable("NOIR_LEDGER_DIR", saved); }
    }
}
