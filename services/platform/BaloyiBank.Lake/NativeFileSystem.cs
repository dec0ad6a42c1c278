using System.Runtime.InteropServices;

namespace BaloyiBank.Lake;

/// <summary>
/// The few POSIX calls .NET does not expose with the guarantees the lake needs. File.Move(overwrite: false)
/// on Unix checks lstat(dest) and then rename()s, so two racers can both "win"; link(2) fails with EEXIST instead.
/// </summary>
internal static partial class NativeFileSystem
{
    private const int EPERM = 1;
    private const int ENOENT = 2;
    private const int EEXIST = 17;
    private const int ENOTDIR = 20;
    private const int EISDIR = 21;

    /// <summary>Creates <paramref name="destination"/> as a second name of <paramref name="source"/>; false when the name is taken.</summary>
    public static bool TryCreateExclusive(string source, string destination)
    {
        if (OperatingSystem.IsWindows())
        {
            // MoveFileEx without MOVEFILE_REPLACE_EXISTING is atomic and fails when the name exists.
            try
            {
                File.Move(source, destination, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(destination))
            {
                return false;
            }
        }

        if (Link(source, destination) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            EEXIST => false,
            ENOENT => throw new DirectoryNotFoundException($"Cannot create '{destination}': its folder does not exist."),
            _ => throw new IOException(
                $"link('{source}', '{destination}') failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}). " +
                "The folder lake needs a file system with hard links (ext4, xfs, btrfs, tmpfs, APFS) for put-if-absent.", errno),
        };
    }

    /// <summary>Removes a file name; false when there was none (exact under races, unlike File.Exists + File.Delete).</summary>
    public static bool TryDelete(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }

        if (Unlink(path) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            // Missing, a parent is a file, or the name is a folder (a prefix, not an object).
            ENOENT or ENOTDIR or EISDIR or EPERM when !File.Exists(path) => false,
            _ => throw new IOException($"unlink('{path}') failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).", errno),
        };
    }

    /// <summary>fsyncs a folder so a rename or link in it survives power loss; best effort, as not every file system allows it.</summary>
    public static void TryFlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }

        _ = Fsync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unlink(string path);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
