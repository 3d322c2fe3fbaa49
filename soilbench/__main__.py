from soilbench.cli import main

raise SystemExit(main())
