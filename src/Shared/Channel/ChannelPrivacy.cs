using System.Runtime.InteropServices;

namespace ProcessPools.Channels;

/// <summary>How a worker keeps its inherited channel handles from being inherited again by the processes its jobs start.</summary>
internal enum ChannelPrivacy
{
    /// <summary><c>fcntl(fd, F_SETFD, FD_CLOEXEC)</c> with its variadic argument in a register, as Linux and x64 Unix pass it.</summary>
    Fcntl,

    /// <summary>
    /// The same call with the variadic argument on the stack: Apple's arm64 ABI passes every variadic argument on the
    /// stack, where a fixed-argument P/Invoke would leave it in a register that <c>fcntl</c> never reads, so the flag
    /// would silently not be set. Six unused register arguments push the flag into the first stack slot.
    /// </summary>
    FcntlArgumentOnStack,

    /// <summary><c>SetHandleInformation(handle, HANDLE_FLAG_INHERIT, 0)</c>: Windows' <c>Process.Start</c> inherits every inheritable handle.</summary>
    ClearHandleInherit,
}

/// <summary>The OS decisions of the channel, with the OS as a parameter so that each is unit-tested on any OS.</summary>
internal static class ChannelPlatform
{
    /// <summary>How a worker on <paramref name="os"/> and <paramref name="architecture"/> makes its channel handles not inheritable.</summary>
    public static ChannelPrivacy PrivacyFor(HostOs os, Architecture architecture) =>
        os == HostOs.Windows ? ChannelPrivacy.ClearHandleInherit
        : os == HostOs.MacOS && architecture == Architecture.Arm64 ? ChannelPrivacy.FcntlArgumentOnStack
        : ChannelPrivacy.Fcntl;
}
