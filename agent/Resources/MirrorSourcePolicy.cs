namespace NodeAgent.Resources;

/// <summary>The values of <c>mirrorSourcePolicy</c> in ImageDigestMirrorSet and ImageTagMirrorSet.</summary>
public static class MirrorSourcePolicy
{
    public const string AllowContactingSource = "AllowContactingSource";
    public const string NeverContactSource = "NeverContactSource";

    /// <summary>An empty or absent policy means <see cref="AllowContactingSource"/>, as in MCO.</summary>
    public static string Normalize(string? policy) =>
        string.IsNullOrEmpty(policy) ? AllowContactingSource : policy;

    public static bool IsKnown(string policy) =>
        policy is AllowContactingSource or NeverContactSource;
}
