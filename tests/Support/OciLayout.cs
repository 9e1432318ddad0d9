using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A tiny hand-made OCI image written as an <c>oci:</c> layout directory: one gzip layer holding
/// one text file, an image config and an OCI image manifest, with the manifest tagged in
/// <c>index.json</c>. No registry, builder or base image is involved, so the manifest digest is
/// known before anything is pushed.
/// </summary>
public sealed record OciLayout(string Path, string Tag, string ManifestDigest, string LayerDigest)
{
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>The <c>oci:</c> reference skopeo copies from.</summary>
    public string Reference => $"oci:{Path}:{Tag}";

    public static OciLayout Write(string path, string tag, string fileName, string fileContent)
    {
        Directory.CreateDirectory(System.IO.Path.Join(path, "blobs", "sha256"));
        var tar = Tar(fileName, Encoding.UTF8.GetBytes(fileContent));
        var layer = Gzip(tar);
        var layerDigest = PutBlob(path, layer);
        var config = JsonBytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray(Digest(tar)),
            },
        });
        var configDigest = PutBlob(path, config);
        var manifest = JsonBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.Length),
            ["layers"] = new JsonArray(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, layer.Length)),
        });
        var manifestDigest = PutBlob(path, manifest);
        var index = Descriptor(ManifestMediaType, manifestDigest, manifest.Length);
        index["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        File.WriteAllBytes(System.IO.Path.Join(path, "index.json"), JsonBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(index),
        }));
        File.WriteAllText(System.IO.Path.Join(path, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        return new OciLayout(path, tag, manifestDigest, layerDigest);
    }

    /// <summary>
    /// The single manifest digest an <c>oci:</c> layout that skopeo wrote refers to, after
    /// checking that its blob is present with exactly that digest.
    /// </summary>
    public static string ReadManifestDigest(string path)
    {
        var index = JsonNode.Parse(File.ReadAllText(System.IO.Path.Join(path, "index.json")))!;
        var manifests = index["manifests"]!.AsArray();
        if (manifests.Count != 1)
        {
            throw new InvalidDataException($"{path}/index.json lists {manifests.Count} manifests, expected 1");
        }
        var digest = manifests[0]!["digest"]!.GetValue<string>();
        var blob = System.IO.Path.Join(path, "blobs", "sha256", digest["sha256:".Length..]);
        var actual = Digest(File.ReadAllBytes(blob));
        return actual == digest ? digest : throw new InvalidDataException($"{blob} hashes to {actual}, not {digest}");
    }

    public static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static JsonObject Descriptor(string mediaType, string digest, int size) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = digest,
        ["size"] = size,
    };

    private static byte[] JsonBytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));

    private static string PutBlob(string layout, byte[] bytes)
    {
        var digest = Digest(bytes);
        File.WriteAllBytes(System.IO.Path.Join(layout, "blobs", "sha256", digest["sha256:".Length..]), bytes);
        return digest;
    }

    // Fixed owner, mode and time: the layer has the same bytes on every run.
    private static byte[] Tar(string fileName, byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, fileName)
            {
                DataStream = new MemoryStream(content),
                ModificationTime = DateTimeOffset.UnixEpoch,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                Uid = 0,
                Gid = 0,
            });
        }
        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }
        return buffer.ToArray();
    }
}
