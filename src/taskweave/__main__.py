from taskweave.cli import main

raise SystemExit(main())
