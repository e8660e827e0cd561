namespace System.Runtime.CompilerServices;

/// <summary>Lets records compile for netstandard2.0, the target a source generator must have.</summary>
internal static class IsExternalInit;
