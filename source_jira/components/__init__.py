"""Python components for what the declarative manifest cannot express. Each module says why at its top."""
