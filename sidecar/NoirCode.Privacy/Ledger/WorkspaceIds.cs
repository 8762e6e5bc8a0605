using System.Security.Cryptography;
using System.Text;
using NoirCode.Privacy.Keys;

namespace NoirCode.Privacy.Ledger;

/// <summary>
/// The ledger's opaque id for a workspace folder, salted per user. A hash of the path with a constant, public salt
/// (what the ledger used before) lets anyone who can guess a path (~/src/the-company-repo) confirm it
/// from a ledger row; here the salt is 32 random bytes made once and kept beside the ledger, owner-only.
/// </summary>
public static class WorkspaceIds
{
    public const string SaltFile = "workspace-salt";

    public static string For(string ledgerFolder, string workspacePath) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Salt(ledgerFolder), Encoding.UTF8.GetBytes(Path.GetFullPath(workspacePath))))[..16];

    /// <summary>The user's salt, made on first use; a concurrent first use by another process keeps whichever landed first.</summary>
    static byte[] Salt(string ledgerFolder)
    {
        SecureFiles.CreateFolder(ledgerFolder);
        string path = Path.Combine(ledgerFolder, SaltFile);
        if (!File.Exists(path))
        {
            string tmp = $"{path}.{Environment.ProcessId}.tmp";
            SecureFiles.WriteAllText(tmp, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
            try { File.Move(tmp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(tmp); }
        }
        SecureFiles.CheckOwnerOnly(path);
        try
        {
            var salt = Convert.FromHexString(File.ReadAllText(path).Trim());
            if (salt.Length >= 16) return salt;
        }
        catch (FormatException) { }
        throw new IOException($"{path} is not a workspace salt (64 hex digits); delete it to make a new one (workspace ids in the ledger then change)");
    }
}
