using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// Points Confluent.Kafka at the system's librdkafka (Debian's librdkafka1 ships only
/// <c>librdkafka.so.1</c>; the librdkafka.redist package with its own copy is not available).
/// Registered once per process, before the first client is built; thread-safe.
/// </summary>
public static class KafkaNative
{
    /// <summary>The native library Debian installs (package librdkafka1).</summary>
    public const string LibrdkafkaFile = "librdkafka.so.1";

    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Registers the resolver if nobody has yet. Idempotent; call before building any Kafka client.</summary>
    public static void EnsureRegistered()
    {
        if (Volatile.Read(ref _registered))
        {
            return;
        }

        lock (Gate)
        {
            if (_registered)
            {
                return;
            }

            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The host registered its own resolver for Confluent.Kafka first; it wins.
            }

            Volatile.Write(ref _registered, true);
        }
    }

    /// <summary>librdkafka's version as loaded (Debian 12: 2.0.2); throws a clear message when the library is missing.</summary>
    public static string LibraryVersion()
    {
        EnsureRegistered();
        try
        {
            return Library.VersionString;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            throw new EventLogConfigurationException(
                $"The Kafka event log needs the native library {LibrdkafkaFile}, which could not be loaded ({e.GetBaseException().Message}). " +
                "Fix: install it with 'apt-get install librdkafka1' (deploy/local/ensure-prereqs.sh does this).",
                e);
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName.Contains("rdkafka", StringComparison.OrdinalIgnoreCase))
        {
            return NativeLibrary.Load(LibrdkafkaFile);
        }

        if (libraryName.Contains("libdl", StringComparison.OrdinalIgnoreCase))
        {
            return NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero;
        }

        return IntPtr.Zero;
    }
}
