using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A Unix datagram socket bound to a path, standing in for systemd's NOTIFY_SOCKET: it keeps every
/// message a process sends there.
/// </summary>
public sealed class UnixDatagramReceiver : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly ConcurrentQueue<string> _received = new();
    private readonly Task _receiving;

    public UnixDatagramReceiver(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _receiving = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (true)
            {
                int length;
                try
                {
                    length = await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _received.Enqueue(Encoding.UTF8.GetString(buffer, 0, length));
            }
        });
    }

    public string Path { get; }

    /// <summary>Every message so far, in order.</summary>
    public IReadOnlyList<string> Received => [.. _received];

    public void Dispose()
    {
        _socket.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        File.Delete(Path);
    }
}
